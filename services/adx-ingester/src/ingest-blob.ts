import { randomUUID } from 'node:crypto';
import type { Logger } from '@logferry/shared/logging/logger';
import { scrubExternalText } from '@logferry/shared/logging/redact';
import type { Mapping } from '@logferry/shared/mappings/index';
import { ingestionResultMessage } from '@logferry/shared/messages/index';
import type { BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { guardStore } from '@logferry/shared/stores/guard-store';
import { type Outcome, outcome, type Publisher } from '@logferry/shared/transport/port';
import type { BlobUrlFor } from './blob-url.ts';
import { AdxIngestError, type AdxIngestor } from './kusto-ingestor.ts';

export interface IngestDeps {
  readonly store: Pick<
    BlobStatusStore,
    'get' | 'markIngesting' | 'markPosted' | 'markPostFailed' | 'markFailed' | 'markSkipped'
  >;
  readonly ingestor: AdxIngestor;
  readonly blobUrlFor: BlobUrlFor;
  readonly publisher: Publisher;
  readonly logger: Logger;
  /**
   * A row `ingesting` but not known to be posted may have been posted by a delivery that died right after:
   * its redelivery waits this long from `ingestingAt` for ADX to report on the source id (the report settles
   * the row) before it posts again. Default 15 minutes: ADX's batching time (5 min) and a margin.
   */
  readonly repostAfterMs?: number;
  readonly now?: () => number;
}

/** See IngestDeps.repostAfterMs. */
export const DEFAULT_REPOST_AFTER_MS = 900_000;

export interface BlobToIngest {
  readonly container: string;
  readonly name: string;
  readonly etag: string;
  /** Size handed to ADX as RawDataSize. */
  readonly rawSize: number;
  /** Undefined: no entry in mappings.json routes this blob. */
  readonly mapping: Mapping | undefined;
  /** What the skip reason names when there is no mapping. */
  readonly routingKey: string;
}

/**
 * Takes one claimed blob version from `queued` to `ingesting` and hands it to ADX's ingestion queue.
 * The source id and the sourceId → row pointer are saved before ADX hears of it, so every report
 * can be matched. A redelivery finds the row already `ingesting`: posted → nothing to do; not known to be
 * posted (a delivery died between the save and the post, or between the post and its mark) → wait for ADX's
 * report on that source id, which settles the row, and post again with the same source id only if none came
 * within repostAfterMs. So a post is repeated only when its first try most likely never reached ADX.
 */
export async function ingestBlob(deps: IngestDeps, blob: BlobToIngest): Promise<Outcome> {
  const log = deps.logger.child({ container: blob.container, blob: blob.name });
  const read = await guardStore(log, 'read the status row', () => deps.store.get(blob.container, blob.name));
  if (!read.ok) return read.failure;
  const row = read.value;
  if (!row)
    return outcome.deadLetter(
      'NoStatusRow',
      `no status row for ${blob.container}/${blob.name}; it must be claimed first`,
    );
  if (row.etag !== blob.etag) {
    log.info({ rowEtag: row.etag, etag: blob.etag }, 'request is for an older blob version; dropped');
    return outcome.success();
  }
  if (row.status === 'ingesting') {
    if (row.postedAt !== undefined || row.sourceId === undefined || !blob.mapping) return outcome.success();
    const since = Date.parse(row.ingestingAt ?? row.updatedAt);
    const waitMs = since + (deps.repostAfterMs ?? DEFAULT_REPOST_AFTER_MS) - (deps.now ?? Date.now)();
    // After a post that failed visibly (ADX down, refused) there is nothing to wait for.
    if (waitMs > 0 && row.postFailedAt === undefined) {
      log.info(
        { sourceId: row.sourceId, waitMs },
        'ingesting but not known to be posted: waiting for ADX to report on its source id before posting again',
      );
      return outcome.retryLater('AwaitingAdxReport', `no report yet for source id ${row.sourceId}`, waitMs);
    }
    log.warn(
      { sourceId: row.sourceId },
      'no report on an unconfirmed post in time; posting again with the same source id',
    );
    return post(deps, blob, blob.mapping, row.sourceId, log);
  }
  if (row.status !== 'queued') {
    log.debug({ status: row.status }, 'nothing to do in this status');
    return outcome.success();
  }
  if (!blob.mapping) {
    log.info({ routingKey: blob.routingKey }, 'skipped: no mapping');
    return skip(deps, blob, `NoMapping: no entry in mappings.json for "${blob.routingKey}"`, log);
  }
  if (row.size === 0) return skip(deps, blob, 'empty blob (0 bytes)', log);
  const sourceId = randomUUID();
  const mapping = blob.mapping;
  const ingesting = await guardStore(log, 'mark the blob ingesting', () =>
    deps.store.markIngesting(
      blob.container,
      blob.name,
      { sourceId, table: mapping.table, format: mapping.format, mapping: mapping.mappingReference ?? '' },
      { etag: blob.etag },
    ),
  );
  if (!ingesting.ok) return ingesting.failure;
  const marked = ingesting.value;
  if (!marked.applied) {
    log.info({ reason: marked.reason }, 'another delivery got here first');
    return outcome.success();
  }
  return post(deps, blob, blob.mapping, sourceId, log);
}

async function skip(deps: IngestDeps, blob: BlobToIngest, reason: string, log: Logger): Promise<Outcome> {
  const skipped = await guardStore(log, 'mark the blob skipped', () =>
    deps.store.markSkipped(blob.container, blob.name, reason, { etag: blob.etag }),
  );
  if (!skipped.ok) return skipped.failure;
  if (skipped.value.applied) await publishSkipped(deps, blob, reason);
  return outcome.success();
}

async function post(
  deps: IngestDeps,
  blob: BlobToIngest,
  mapping: Mapping,
  sourceId: string,
  log: Logger,
): Promise<Outcome> {
  try {
    const blobUrl = await deps.blobUrlFor(blob.container, blob.name);
    await deps.ingestor.ingest({ blobUrl, rawSize: blob.rawSize, sourceId, mapping });
  } catch (error) {
    const e = error instanceof AdxIngestError ? error : new AdxIngestError(scrubExternalText(String(error)), true);
    if (e.transient) {
      log.warn({ err: e.message, sourceId }, 'ingestion request failed; will retry');
      // Lets the retry post at once instead of waiting for a report that cannot come. If this write fails
      // too, the retry waits REPOST_AFTER_MS: slower, never a duplicate.
      await deps.store.markPostFailed(blob.container, blob.name, sourceId).catch(() => undefined);
      return outcome.retryLater('AdxIngestUnavailable', e.message);
    }
    // Permanent for this request (auth, bad request): visible on the row, and a later scan may retry it.
    const failed = await guardStore(log, 'mark the blob failed', () =>
      deps.store.markFailed(
        blob.container,
        blob.name,
        { reason: e.message, errorCode: 'IngestRequestRejected', retryable: true, requeue: false },
        { sourceId },
      ),
    );
    if (!failed.ok) return failed.failure;
    if (failed.value.applied) await publishFailure(deps, blob, sourceId, mapping, e.message, failed.value.row);
    return outcome.deadLetter('IngestRequestRejected', e.message);
  }
  const posted = await deps.store.markPosted(blob.container, blob.name, sourceId).catch((error: unknown) => {
    // The request is in ADX's queue already; a missing postedAt only costs a re-post on redelivery.
    log.warn({ err: error }, 'could not record the post');
    return undefined;
  });
  log.info({ sourceId, table: mapping.table, posted: posted?.applied }, 'queued for ingestion');
  return outcome.success();
}

async function publishFailure(
  deps: IngestDeps,
  blob: BlobToIngest,
  sourceId: string,
  mapping: Mapping,
  details: string,
  row: BlobStatusRow,
): Promise<void> {
  const message = ingestionResultMessage('adx-ingester', {
    kind: 'rejected',
    container: blob.container,
    blobName: blob.name,
    sourceId,
    status: row.status === 'queued' ? 'queued' : 'failed',
    table: mapping.table,
    errorCode: 'IngestRequestRejected',
    details,
  });
  await deps.publisher.publish('ingestion-results', [message]).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'could not publish the ingestion result (the status row holds it)');
  });
}

/**
 * Tells the page (other processes) a blob will not be ingested; without it the row changes only on a refresh.
 * Best effort: the status row is the record. The id is stable per blob version, so a resend is a duplicate.
 */
async function publishSkipped(deps: IngestDeps, blob: BlobToIngest, reason: string): Promise<void> {
  const message = ingestionResultMessage('adx-ingester', {
    kind: 'skipped',
    container: blob.container,
    blobName: blob.name,
    etag: blob.etag,
    reason,
    table: blob.mapping?.table,
  });
  await deps.publisher.publish('ingestion-results', [message]).catch((error: unknown) => {
    deps.logger.warn({ err: error }, 'could not publish the skipped result (the status row holds it)');
  });
}
