import { type Outcome, outcome } from '@logferry/shared/transport/port';

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  statusCode?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchBucket', 'NoSuchVersion']);
const DENIED = new Set(['AccessDenied', 'AllAccessDisabled', 'AccountProblem']);
const THROTTLED = new Set(['SlowDown', 'Throttling', 'ThrottlingException', 'TooManyRequestsException']);
// 400s that S3 uses for transient conditions.
const TRANSIENT_400 = new Set(['RequestTimeout', 'RequestTimeTooSkewed', 'ExpiredToken', 'TokenRefreshRequired']);

/**
 * What to do about an error from GetObject (or its body stream): a missing or archived object cannot
 * appear by retrying (dead-letter with a reason an operator can act on); access denied, throttling, 5xx,
 * network faults and timeouts are retried. Never echoes credentials: S3 error messages do not carry them.
 * Every outcome carries a code (transport/failure-codes.ts), which the failure metric counts by.
 */
export function classifyS3Error(err: unknown, where: string): Outcome {
  const e = (typeof err === 'object' && err !== null ? err : {}) as ErrorLike;
  const name = typeof e.name === 'string' ? e.name : typeof e.code === 'string' ? e.code : 'Error';
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  const message = typeof e.message === 'string' ? e.message : String(err);
  if (NOT_FOUND.has(name) || status === 404) {
    return outcome.deadLetter('ObjectNotFound', `${where}: ${name} (${message})`);
  }
  if (name === 'PreconditionFailed' || status === 412) {
    return outcome.deadLetter(
      'ObjectChanged',
      `${where}: the object no longer has the announced ETag (overwritten since the notification; its new version is announced separately)`,
    );
  }
  if (name === 'InvalidObjectState') return outcome.deadLetter('ObjectArchived', `${where}: ${name} (${message})`);
  if (DENIED.has(name) || status === 403) {
    // Usually the role, its trust policy or a KMS grant, not the object: an IAM change mid-rollout would
    // otherwise dead-letter every object at once. Retried with backoff; past the attempts it is dead-lettered.
    return outcome.retryLater('AccessDenied', `${where}: ${name} (${message})`);
  }
  if (
    status !== undefined &&
    status >= 400 &&
    status < 500 &&
    status !== 408 &&
    status !== 429 &&
    !TRANSIENT_400.has(name)
  ) {
    return outcome.deadLetter('S3RequestRejected', `${where}: ${status} ${name} (${message})`);
  }
  const code = status === 429 || THROTTLED.has(name) ? 'S3Throttled' : 'S3Unavailable';
  return outcome.retryLater(code, `${status ?? ''} ${name}: ${message}`.replace(/\s+/g, ' ').slice(0, 300));
}
