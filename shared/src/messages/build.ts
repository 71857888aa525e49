import { createHash } from 'node:crypto';
import type { ServiceName } from './envelope.ts';
import type { IngestRequestMessage } from './ingest-request.ts';
import type { IngestionResultMessage } from './ingestion-result.ts';
import type { S3ObjectMessage } from './s3-object.ts';
import type { StagedBatchMessageV2 } from './staged-batch.ts';

type EnvelopeKey = 'type' | 'schemaVersion' | 'id' | 'producer' | 'time';
/** A message's own fields: what its builder is given besides the id and the producer. */
export type MessageBody<M> = Omit<M, EnvelopeKey>;

export interface EnvelopeMeta {
  /** The idempotency key downstream (and the Service Bus messageId). */
  readonly id: string;
  readonly producer: ServiceName;
  /** Default: the current time. */
  readonly now?: Date;
}

/**
 * Fills the fields every message carries (as message-queue-toolkit's metadata filler does), so no
 * producer hand-writes `type`, `schemaVersion`, `producer` or `time`.
 */
export function envelope<T extends string, V extends number = 1>(type: T, meta: EnvelopeMeta, schemaVersion?: V) {
  return {
    type,
    schemaVersion: (schemaVersion ?? 1) as V,
    id: meta.id,
    producer: meta.producer,
    time: (meta.now ?? new Date()).toISOString(),
  };
}

export function s3ObjectMessage(meta: EnvelopeMeta, body: MessageBody<S3ObjectMessage>): S3ObjectMessage {
  return { ...envelope('s3-object', meta), ...body };
}

/** The version s3-fetcher writes now (v1 is only read, while such messages may be in flight). */
export function stagedBatchMessage(meta: EnvelopeMeta, body: MessageBody<StagedBatchMessageV2>): StagedBatchMessageV2 {
  return { ...envelope('staged-batch', meta, 2), ...body };
}

export function ingestRequestMessage(
  meta: EnvelopeMeta,
  body: MessageBody<IngestRequestMessage>,
): IngestRequestMessage {
  return { ...envelope('ingest-request', meta), ...body };
}

/** What happened to a blob, as the `ingestion-results` topic tells the page and alerts. */
export type IngestionOutcome =
  /** It will not be ingested (no mapping, empty); stable per blob version, so a resend is a duplicate. */
  | {
      readonly kind: 'skipped';
      readonly container: string;
      readonly blobName: string;
      readonly etag: string;
      readonly reason: string;
      readonly table?: string | undefined;
    }
  /** ADX refused the ingestion request itself; the row is failed (or queued again). */
  | {
      readonly kind: 'rejected';
      readonly container: string;
      readonly blobName: string;
      readonly sourceId: string;
      readonly status: 'failed' | 'queued';
      readonly table: string;
      readonly errorCode: string;
      readonly details: string;
    }
  /** A status the completion checker applied from ADX's reports or a timeout, per attempt. */
  | {
      readonly kind: 'status';
      readonly container: string;
      readonly blobName: string;
      readonly sourceId: string;
      readonly status: IngestionResultMessage['status'];
      readonly attempt: number;
      readonly table?: string | undefined;
      readonly errorCode?: string | undefined;
      readonly failureStatus?: IngestionResultMessage['failureStatus'];
      readonly details?: string | undefined;
    };

/** The one place an `ingestion-result` id is derived: per blob version when skipped, per source id otherwise. */
export function ingestionResultId(result: IngestionOutcome): string {
  switch (result.kind) {
    case 'skipped': {
      const version = createHash('sha256')
        .update(`${result.container}\n${result.blobName}\n${result.etag}`)
        .digest('hex');
      return `skipped:${version}`;
    }
    case 'rejected':
      return `${result.sourceId}:rejected`;
    case 'status':
      return `${result.sourceId}:${result.status}:${result.attempt}`;
  }
}

const MAX_ERROR_CODE = 256;
const MAX_DETAILS = 4096;

export function ingestionResultMessage(
  producer: ServiceName,
  result: IngestionOutcome,
  now?: Date,
): IngestionResultMessage {
  const message: IngestionResultMessage = {
    ...envelope('ingestion-result', { id: ingestionResultId(result), producer, ...(now ? { now } : {}) }),
    container: result.container,
    blobName: result.blobName,
    status: result.kind === 'skipped' ? 'skipped' : result.status,
  };
  if (result.kind !== 'skipped') message.sourceId = result.sourceId;
  if (result.table !== undefined) message.table = result.table;
  const errorCode = result.kind === 'skipped' ? undefined : result.errorCode;
  if (errorCode !== undefined) message.errorCode = errorCode.slice(0, MAX_ERROR_CODE);
  if (result.kind === 'status' && result.failureStatus !== undefined) message.failureStatus = result.failureStatus;
  const details = result.kind === 'skipped' ? result.reason : result.details;
  if (details !== undefined) message.details = details.slice(0, MAX_DETAILS);
  return message;
}
