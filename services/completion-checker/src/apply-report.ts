import type { Logger } from '@logferry/shared/logging/logger';
import type { BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { Publisher } from '@logferry/shared/transport/port';
import { ingestRequestFor, resultFor } from './results.ts';
import { failureStatusOf, type StatusReport } from './status-report.ts';

export interface ApplyDeps {
  readonly store: Pick<BlobStatusStore, 'findBySourceId' | 'markSucceeded' | 'markFailed' | 'markPublished'>;
  readonly publisher: Publisher;
  readonly logger: Logger;
}

/** `foreign`: no row has this source id (another client's report): not ours to delete by default. */
export type ApplyOutcome = 'applied' | 'already-applied' | 'stale' | 'foreign';

/**
 * Applies one report to its status row, then publishes what follows from the row's new state (the retry
 * request, the result). Idempotent: run again after a crash between the save and the queue delete, it
 * finds the row already moved and completes the publishes it may have missed; the caller deletes the
 * report only after this resolves.
 */
export async function applyReport(deps: ApplyDeps, report: StatusReport): Promise<ApplyOutcome> {
  const sourceId = report.IngestionSourceId;
  const row = await deps.store.findBySourceId(sourceId);
  if (!row) return 'foreign';
  const log = deps.logger.child({ container: row.container, blob: row.blobName, sourceId });
  if (row.sourceId?.toLowerCase() !== sourceId.toLowerCase()) {
    // A report for an earlier ingestion of this row (the blob changed or was requeued since).
    log.info({ current: row.sourceId }, 'report for an earlier ingestion; ignored');
    return 'stale';
  }
  if (report.kind === 'success') {
    const result = await deps.store.markSucceeded(
      row.container,
      row.blobName,
      sourceId,
      `ingested into ${report.Table ?? row.table ?? '?'}`,
    );
    const current = result.row;
    if (current?.status !== 'succeeded') return 'stale';
    await publishResult(deps, current, 'succeeded', sourceId);
    log.info({ applied: result.applied }, 'succeeded');
    return result.applied ? 'applied' : 'already-applied';
  }
  const failureStatus = failureStatusOf(report);
  const details = report.Details?.trim() || 'no details';
  const result = await deps.store.markFailed(
    row.container,
    row.blobName,
    {
      reason: `${report.ErrorCode ?? 'UnknownError'} (${failureStatus}): ${details}`,
      ...(report.ErrorCode !== undefined ? { errorCode: report.ErrorCode } : {}),
      failureStatus,
      retryable: failureStatus === 'Transient',
    },
    { sourceId },
  );
  const current = result.row;
  if (!current) return 'stale';
  if (current.status === 'queued') {
    // Transient with attempts left: the row is back in `queued`; hand the blob to adx-ingester again.
    await deps.publisher.publish('ingest-requests', [ingestRequestFor(current)]);
    await deps.store.markPublished(current);
    await publishResult(deps, current, 'queued', sourceId);
    log.warn({ attempt: current.attempts, errorCode: report.ErrorCode }, 'transient failure; queued again');
  } else if (current.status === 'failed') {
    await publishResult(deps, current, 'failed', sourceId);
    log.warn({ errorCode: report.ErrorCode, failureStatus }, 'failed');
  } else {
    return 'stale';
  }
  return result.applied ? 'applied' : 'already-applied';
}

async function publishResult(
  deps: ApplyDeps,
  row: BlobStatusRow,
  status: 'succeeded' | 'failed' | 'queued' | 'unknown',
  sourceId: string,
): Promise<void> {
  const message = resultFor(row, status, sourceId);
  if (message) await deps.publisher.publish('ingestion-results', [message]);
}
