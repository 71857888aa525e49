/**
 * Every reason a delivery is retried or dead-lettered, as a code. Outcomes carry the code apart from
 * the free-text detail, so metrics label by code without parsing text and a dashboard's series do
 * not grow with input. A new failure is a new entry here, named for what an operator can act on.
 */
export const RETRY_CODES = [
  /** The status table (Azure Tables) did not answer or refused a read or write. */
  'StatusTableUnavailable',
  /** The staging container did not answer (read, properties). */
  'StagedBlobUnreadable',
  /** Staging an object's batches failed for a reason other than the document or S3 (Blob, Service Bus). */
  'StagingFailed',
  'S3Throttled',
  'S3Unavailable',
  'S3NoBody',
  /** S3 said 403: usually the role, its trust policy or a KMS grant mid-rollout, not the object. */
  'AccessDenied',
  'LogsIngestionThrottled',
  'LogsIngestionUnavailable',
  /** The Logs Ingestion API refused our identity or configuration: every batch would fail alike. */
  'LogsIngestionMisconfigured',
  /** ADX's ingestion queue could not take the request (network, 5xx, throttled). */
  'AdxIngestUnavailable',
  /** Publishing to a Service Bus topic failed. */
  'PublishFailed',
  /** The lock was lost or the consumer is stopping; the work is handed back. */
  'Interrupted',
  /** A post to ADX that may have happened (its delivery died): its report is awaited before posting again. */
  'AwaitingAdxReport',
  /** Another delivery holds the work's claim (a duplicate in flight): retried once that claim is done or expired. */
  'InFlightElsewhere',
  /** Our claim on the work lapsed and another delivery took it over: stopped before repeating its side effect. */
  'ClaimLost',
  /** The handler threw or returned something other than an outcome: a bug, retried in case it is data-dependent. */
  'HandlerBug',
] as const;
export type RetryCode = (typeof RETRY_CODES)[number];

export const DEAD_LETTER_CODES = [
  /** The message body is not JSON. */
  'InvalidJson',
  /** The message fails its topic's schema. */
  'SchemaValidation',
  /** Retried `maxAttempts` times; the description holds the last retry's code and detail. */
  'MaxAttemptsExceeded',
  /**
   * The message names a blob, bucket or key outside what this service's configuration allows (another
   * container, `..`, a bucket or prefix not allowed, a key that yields no source name): see docs/security.md.
   */
  'ForbiddenReference',
  'ObjectNotFound',
  'ObjectChanged',
  'ObjectArchived',
  'S3RequestRejected',
  'CorruptCompression',
  'TruncatedDocument',
  'InvalidDocument',
  'DecompressionLimit',
  'StagedBlobMissing',
  'StagedBlobCorrupt',
  'StagedBatchTooLarge',
  'RecordTooLarge',
  'LogsIngestionRejected',
  'NoStatusRow',
  'IngestRequestRejected',
] as const;
export type DeadLetterCode = (typeof DEAD_LETTER_CODES)[number];

/**
 * Counted by `logferry.failures` beside the codes above: a sink answer that cost a request without
 * ending the delivery (a 413 the uploader splits).
 */
export const ATTEMPT_CODES = ['LogsIngestionTooLarge'] as const;

export type FailureCode = RetryCode | DeadLetterCode | (typeof ATTEMPT_CODES)[number];

const ALL: ReadonlySet<string> = new Set<string>([...RETRY_CODES, ...DEAD_LETTER_CODES, ...ATTEMPT_CODES]);

export function isFailureCode(value: unknown): value is FailureCode {
  return typeof value === 'string' && ALL.has(value);
}

/**
 * The metric label for a code. Types keep codes in the union; a value that reached here some other
 * way (a foreign dead-letter reason) is reported as `unclassified` rather than growing a series.
 */
export function failureLabel(value: unknown): FailureCode | 'unclassified' {
  return isFailureCode(value) ? value : 'unclassified';
}
