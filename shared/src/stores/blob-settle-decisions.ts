import {
  ACTIVE,
  checkRow,
  type Decision,
  type Expect,
  maxAttemptsOf,
  movedRow,
  type RowPolicy,
  requeuedRow,
} from './blob-row-rules.ts';
import { isRetryable } from './blob-scan-view.ts';
import { type BlobStatusRow, ERROR_LIMIT, type FailureStatus, storedText } from './blob-status-model.ts';

// The ingester's and the completion checker's side of a row: ingesting → posted → settled (succeeded,
// failed, skipped), a silent row → unknown, and the rescue back to queued.

export interface IngestionInfo {
  readonly sourceId: string;
  readonly table: string;
  readonly format: string;
  readonly mapping?: string;
}

export interface FailureInfo {
  readonly reason: string;
  readonly errorCode?: string;
  readonly failureStatus?: FailureStatus;
  /** True for transient faults: with attempts left the row goes back to `queued` (the caller republishes). */
  readonly retryable: boolean;
  /**
   * False: end `failed` now even if retryable (no one will republish); a later scan re-claims it while
   * attempts remain. Default true.
   */
  readonly requeue?: boolean;
}

export function decideIngesting(
  current: BlobStatusRow | undefined,
  at: string,
  ingestion: IngestionInfo,
  expect: Expect,
): Decision {
  const bad = checkRow(current, expect, ['queued', 'unknown']);
  if (bad) return { keep: bad };
  // The ingester holds the request, so it was on the bus even if the scanner's markPublished lost the race
  // to this write (markPublished only marks a row still queued).
  const publishedAt = current?.publishedAt ?? at;
  const row = {
    ...current,
    ...ingestion,
    ingestingAt: at,
    publishedAt,
    postedAt: undefined,
    postFailedAt: undefined,
  };
  return { write: movedRow(row as BlobStatusRow, 'ingesting', at, `source id ${ingestion.sourceId}`) };
}

export function decidePosted(current: BlobStatusRow | undefined, at: string, sourceId: string): Decision {
  const bad = checkRow(current, { sourceId }, ['ingesting']);
  if (bad) return { keep: bad };
  return { write: { ...current, postedAt: at, updatedAt: at } as BlobStatusRow };
}

export function decidePostFailed(current: BlobStatusRow | undefined, at: string, sourceId: string): Decision {
  const bad = checkRow(current, { sourceId }, ['ingesting']);
  if (bad) return { keep: bad };
  if (current?.postedAt) return { keep: 'posted' };
  return { write: { ...current, postFailedAt: at } as BlobStatusRow };
}

export function decideSucceeded(
  current: BlobStatusRow | undefined,
  at: string,
  sourceId: string,
  reason: string | undefined,
): Decision {
  const bad = checkRow(current, { sourceId }, ACTIVE);
  if (bad) return { keep: bad };
  const row = {
    ...current,
    finishedAt: at,
    lastError: undefined,
    errorCode: undefined,
    failureStatus: undefined,
    retryable: undefined,
  };
  return { write: movedRow(row as BlobStatusRow, 'succeeded', at, reason ?? 'ingested') };
}

/** A retryable failure with attempts left goes back to `queued` with the next attempt; otherwise `failed`. */
export function decideFailed(
  current: BlobStatusRow | undefined,
  at: string,
  failure: FailureInfo,
  expect: Expect,
  policy: RowPolicy,
): Decision {
  // Not from `queued`: a row requeued by an earlier report (or a timeout) must not count the same failure twice.
  const bad = checkRow(current, expect, ['ingesting', 'unknown']);
  if (bad) return { keep: bad };
  const base = {
    ...current,
    lastError: storedText(failure.reason, ERROR_LIMIT),
    errorCode: failure.errorCode,
    failureStatus: failure.failureStatus,
    retryable: failure.retryable,
  } as BlobStatusRow;
  const max = maxAttemptsOf(base, policy);
  if (failure.retryable && failure.requeue !== false && base.attempts < max) {
    return { write: requeuedRow(base, at, `retry after: ${failure.reason}`, base.scanId, policy) };
  }
  const exhausted = failure.retryable && base.attempts >= max;
  const reason = exhausted ? `attempts exhausted: ${failure.reason}` : failure.reason;
  return { write: movedRow({ ...base, finishedAt: at }, 'failed', at, reason) };
}

export function decideSkipped(
  current: BlobStatusRow | undefined,
  at: string,
  reason: string,
  expect: Expect,
): Decision {
  const bad = checkRow(current, expect, ACTIVE);
  if (bad) return { keep: bad };
  const row = { ...current, lastError: storedText(reason, ERROR_LIMIT), finishedAt: at, retryable: false };
  return { write: movedRow(row as BlobStatusRow, 'skipped', at, reason) };
}

/** queued/ingesting → unknown, unless the row was updated after `olderThan` (another process moved it). */
export function decideUnknown(
  current: BlobStatusRow | undefined,
  at: string,
  reason: string,
  options: { readonly olderThan?: string; readonly expect?: Expect },
): Decision {
  const bad = checkRow(current, options.expect ?? {}, ['queued', 'ingesting']);
  if (bad) return { keep: bad };
  if (options.olderThan !== undefined && current && current.updatedAt > options.olderThan) {
    return { keep: 'updated since' };
  }
  const row = { ...current, lastError: storedText(reason, ERROR_LIMIT), retryable: true };
  return { write: movedRow(row as BlobStatusRow, 'unknown', at, reason) };
}

/**
 * unknown / retryable failed with attempts left → queued with the next attempt. A rescue (ADX stayed silent:
 * not the blob's fault) keeps the attempt and counts a rescue instead, up to maxRescues.
 */
export function decideRequeue(
  current: BlobStatusRow | undefined,
  at: string,
  reason: string,
  expect: Expect,
  rescue: { readonly maxRescues: number } | undefined,
  policy: RowPolicy,
): Decision {
  const bad = checkRow(current, expect, ['unknown', 'failed']);
  if (bad) return { keep: bad };
  const row = current as BlobStatusRow;
  if (rescue && row.status === 'unknown' && (row.rescues ?? 0) < rescue.maxRescues) {
    const next = { ...row, rescues: (row.rescues ?? 0) + 1, attempts: row.attempts - 1 };
    return { write: requeuedRow(next, at, reason, row.scanId, policy) };
  }
  if (!isRetryable(current, policy.defaultMaxAttempts)) return { keep: 'no attempts left' };
  return { write: requeuedRow(row, at, reason, current?.scanId, policy) };
}
