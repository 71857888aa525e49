import type { Delivery, Handler, Logger, Outcome, StagedBatchMessage } from '@logferry/shared';
import { outcome } from '@logferry/shared';
import { LOGS_INGESTION_LIMIT_BYTES } from '@logferry/shared/config/services/la-uploader';
import type { LogsIngestionDestination } from '@logferry/shared/routes/index';
import type { BatchClaimResult, BatchClaims, HeldBatchClaim } from '@logferry/shared/stores/batch-claim';
import { type BatchStatusRow, mergeRanges, type RecordRange } from '@logferry/shared/stores/batch-status';
import { recordBytesOf } from '@logferry/shared/stores/record-lengths';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import type { FailureCode } from '@logferry/shared/transport/failure-codes';
import type { LogsIngestionClient, UploadAnswer } from './logs-ingestion-client.ts';
import { type StagedBatchRead, type StagedBatchSource, StagedBatchUnreadable } from './staged-batch-reader.ts';
import type { StagedBlobDeleter } from './staged-blob-deleter.ts';
import { pendingRanges, requestBodies } from './upload-plan.ts';
import { type UploadPolicy, uploadRecords } from './upload-records.ts';

export interface UploaderMetrics {
  batch(result: 'uploaded' | 'duplicate' | 'retry' | 'deadletter'): void;
  /** Records the sink accepted. */
  records(count: number): void;
  /** Payload bytes (the records' JSON) the sink accepted. */
  bytes?(count: number): void;
  request(answer: UploadAnswer['kind'], status: number | undefined): void;
}

/** The failure code each sink answer other than accepted is counted by. */
const SINK_FAILURE = {
  tooLarge: 'LogsIngestionTooLarge',
  throttled: 'LogsIngestionThrottled',
  transient: 'LogsIngestionUnavailable',
  misconfigured: 'LogsIngestionMisconfigured',
  rejected: 'LogsIngestionRejected',
} as const satisfies Record<Exclude<UploadAnswer['kind'], 'accepted'>, FailureCode>;

/**
 * UploaderMetrics onto the shared per-stage metrics: a duplicate delivery (batch already uploaded) is
 * counted as a duplicate, not a failure; a sink answer other than accepted is a failure by its kind.
 */
export function uploaderStageMetrics(stage: StageMetrics): UploaderMetrics {
  return {
    batch: (result) => {
      if (result === 'duplicate') stage.duplicate();
    },
    records: (count) => stage.records(count),
    bytes: (count) => stage.bytes(count),
    request: (kind) => {
      if (kind !== 'accepted') stage.failure(SINK_FAILURE[kind]);
    },
  };
}

export interface StagedBatchHandlerDeps {
  /**
   * The batches' `labatch` rows, each also the claim on its batch: a second delivery of a batch being
   * uploaded waits instead of uploading it again, and one already uploaded is skipped.
   */
  readonly claims: Pick<BatchClaims, 'acquire'>;
  readonly staging: StagedBatchSource;
  /** Takes the staged blobs of uploaded batches and deletes them in batches, off the message's path. */
  readonly deleter: Pick<StagedBlobDeleter, 'delete'>;
  /** The client of la-uploader's own DCR_STREAM: batches whose message names no destination. */
  readonly client: Pick<LogsIngestionClient, 'upload'>;
  readonly stream: string;
  /** The client of a route's stream (and DCR), for batches whose message names one. */
  readonly clientFor: (destination: LogsIngestionDestination) => Pick<LogsIngestionClient, 'upload'>;
  /** `delete` removes a batch's blob after upload, unless the message says adx-ingester reads it too. */
  readonly retention: 'delete' | 'keep';
  readonly policy: UploadPolicy;
  readonly logger: Logger;
  readonly metrics?: UploaderMetrics;
}

const noMetrics: UploaderMetrics = { batch: () => {}, records: () => {}, request: () => {} };

/**
 * One staged batch → the Logs Ingestion API, at least once and, in the common case, exactly once:
 * a batch already marked uploaded is skipped; a half-uploaded one resumes after its uploaded ranges;
 * the message succeeds only once the `labatch` row says uploaded (its staged blob is then queued for deletion).
 * Two deliveries at once: the batch is claimed (a conditional write of its row) before the first request;
 * the delivery that finds it claimed retries after the claim's lease.
 * Window left: a crash between a 2xx and the row write re-sends that request's records.
 */
export function createStagedBatchHandler(deps: StagedBatchHandlerDeps): Handler<'staged-batches'> {
  const metrics = deps.metrics ?? noMetrics;
  return async (delivery) => {
    const result = await handle(deps, metrics, delivery);
    if (result.kind === 'retryLater') metrics.batch('retry');
    if (result.kind === 'deadLetter') metrics.batch('deadletter');
    return result;
  };
}

async function handle(
  deps: StagedBatchHandlerDeps,
  metrics: UploaderMetrics,
  delivery: Delivery<StagedBatchMessage>,
): Promise<Outcome> {
  const msg = delivery.body;
  if (msg.logsIngestion === false) {
    // Its route sends this source to ADX only; the staged blob is adx-ingester's (the lifecycle rule removes it).
    deps.logger.debug({ batchId: msg.id, source: msg.source }, 'batch routed to ADX only; not uploaded');
    return outcome.success();
  }
  const stream = msg.logsIngestion?.stream ?? deps.stream;
  const log = deps.logger.child({ batchId: msg.id, objectId: msg.objectId, attempt: delivery.attempt, stream });
  let claimed: BatchClaimResult;
  try {
    claimed = await deps.claims.acquire({
      batchId: msg.id,
      records: msg.recordCount,
      stream,
      objectId: msg.objectId,
      blobName: msg.blobName,
    });
  } catch (err) {
    log.warn({ err }, 'could not claim the batch in the status table');
    return outcome.retryLater('StatusTableUnavailable', 'could not claim the batch');
  }
  if (claimed.kind === 'uploaded') return duplicate(deps, metrics, msg, log);
  if (claimed.kind === 'busy') {
    log.info(
      { holder: claimed.holder, retryInMs: claimed.retryInMs },
      'batch is being uploaded by another delivery; retrying after its claim',
    );
    metrics.batch('duplicate');
    return outcome.retryLater('InFlightElsewhere', `batch claimed by ${claimed.holder}`, claimed.retryInMs);
  }
  const { claim } = claimed;
  try {
    return await upload(deps, metrics, delivery, claimed.progress, log, claim);
  } finally {
    await claim.release();
  }
}

async function duplicate(
  deps: StagedBatchHandlerDeps,
  metrics: UploaderMetrics,
  msg: StagedBatchMessage,
  log: Logger,
): Promise<Outcome> {
  log.info('batch already uploaded; skipping the duplicate delivery');
  metrics.batch('duplicate');
  return finish(deps, msg, log);
}

async function upload(
  deps: StagedBatchHandlerDeps,
  metrics: UploaderMetrics,
  delivery: Delivery<StagedBatchMessage>,
  row: BatchStatusRow | undefined,
  log: Logger,
  claim: HeldBatchClaim,
): Promise<Outcome> {
  const msg = delivery.body;
  // The route's client (stream and DCR) when the batch names one, else la-uploader's own DCR_STREAM's.
  const client = msg.logsIngestion ? deps.clientFor(msg.logsIngestion) : deps.client;
  let read: StagedBatchRead;
  try {
    read = await deps.staging.read(msg, delivery.signal);
  } catch (err) {
    log.warn({ err }, 'could not read the staged blob');
    return outcome.retryLater('StagedBlobUnreadable', `could not read ${msg.blobContainer}/${msg.blobName}`);
  }
  switch (read.kind) {
    case 'missing':
      return outcome.deadLetter(
        'StagedBlobMissing',
        `staged blob ${msg.blobContainer}/${msg.blobName} does not exist (deleted, or never written)`,
      );
    case 'corrupt':
      return outcome.deadLetter(
        'StagedBlobCorrupt',
        `staged blob ${msg.blobContainer}/${msg.blobName}: ${read.reason}`,
      );
    case 'tooLarge':
      return outcome.deadLetter(
        'StagedBatchTooLarge',
        `staged blob ${msg.blobContainer}/${msg.blobName} is, or inflates to, more than ${read.maxRawBytes} bytes (MAX_STAGED_BATCH_BYTES)`,
      );
  }
  const { records } = read;
  const lineBytes = records.lengths;
  const count = lineBytes.length;
  if (count !== msg.recordCount) {
    log.warn({ expected: msg.recordCount, found: count }, 'staged blob holds a different record count than announced');
  }
  const oversized = lineBytes.findIndex((b) => b + 2 > LOGS_INGESTION_LIMIT_BYTES);
  if (oversized >= 0) {
    return outcome.deadLetter(
      'RecordTooLarge',
      `record ${oversized} is ${lineBytes[oversized]} bytes; one request may not exceed ${LOGS_INGESTION_LIMIT_BYTES} bytes`,
    );
  }

  let uploaded: RecordRange[] = [...(row?.uploadedRanges ?? [])];
  let requests = row?.requests ?? 0;
  const pending = pendingRanges(count, uploaded);
  if (row) log.info({ pending: pending.length, uploaded: countRecords(uploaded) }, 'resuming a partly uploaded batch');
  let progressSaved = true;
  const saveProgress = async () => {
    if (progressSaved) return;
    await claim.saveProgress({ records: count, uploadedRanges: mergeRanges(uploaded), requests });
    progressSaved = true;
  };

  try {
    const result = await uploadRecords({
      lineBytes,
      bodyFor: requestBodies(records),
      pending,
      client,
      policy: deps.policy,
      signal: delivery.signal,
      logger: log,
      onAnswer: (a) => metrics.request(a.kind, a.status),
      stillClaimed: () => claim.held,
      onAccepted: async (range) => {
        uploaded = mergeRanges([...uploaded, range]);
        requests += 1;
        metrics.records(range.end - range.start);
        metrics.bytes?.(recordBytesOf(lineBytes, range));
        progressSaved = false;
        // Persist progress only while more requests of this batch remain: it is what a redelivery resumes from.
        if (countRecords(uploaded) < count) await saveProgress();
      },
    });

    if (result.kind === 'done') {
      await claim.markUploaded({ records: count, requests });
      log.info({ records: count, requests }, 'batch uploaded');
      metrics.batch('uploaded');
      return finish(deps, msg, log);
    }
    await saveProgress();
    if (result.kind === 'deadLetter') {
      const partial =
        countRecords(uploaded) > 0 ? ` (${countRecords(uploaded)} of ${count} records were uploaded)` : '';
      return outcome.deadLetter(result.reason, `${result.description}${partial}`);
    }
    return result;
  } catch (err) {
    if (err instanceof StagedBatchUnreadable) {
      // Opened only to send part of it (a split or a resume): what was uploaded so far is in the row.
      await saveProgress().catch((e: unknown) => log.warn({ err: e }, 'could not record upload progress'));
      return outcome.deadLetter(
        'StagedBlobCorrupt',
        `staged blob ${msg.blobContainer}/${msg.blobName}: ${err.message}`,
      );
    }
    // Otherwise only the status-table writes throw here; the client reports HTTP and network faults as answers.
    log.warn({ err }, 'could not record upload progress in the status table');
    return outcome.retryLater('StatusTableUnavailable', 'could not record upload progress');
  }
}

/**
 * After the row says uploaded: queue the staged blob for deletion unless retention keeps it or ADX still
 * needs it. The message does not wait for the delete: the row is what a redelivery checks.
 */
function finish(deps: StagedBatchHandlerDeps, msg: StagedBatchMessage, log: Logger): Outcome {
  if (deps.retention === 'delete' && msg.adxReads) {
    log.debug(
      { source: msg.source },
      'keeping the staged blob: adx-ingester also reads it; the lifecycle rule removes it',
    );
  } else if (deps.retention === 'delete') {
    deps.deleter.delete(msg.blobContainer, msg.blobName);
  }
  return outcome.success();
}

function countRecords(ranges: readonly RecordRange[]): number {
  return ranges.reduce((n, r) => n + (r.end - r.start), 0);
}
