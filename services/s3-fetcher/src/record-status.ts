import type { Logger } from '@logferry/shared/logging/logger';
import type { Outcome } from '@logferry/shared/transport/port';
import type { StatusDeps } from './claim-unstaged.ts';
import type { StageResult } from './stage-object.ts';

/** The page's "fetching" state; informational, so a failed write is logged and the fetch goes on. */
export async function markFetching(
  deps: Pick<StatusDeps, 'status'>,
  log: Logger,
  objectId: string,
  source: string,
  signal: AbortSignal,
): Promise<void> {
  try {
    await deps.status.markFetching({ objectId, source }, { abortSignal: signal });
  } catch (err) {
    log.warn({ err, objectId }, 'could not record the object as fetching');
  }
}

/** Logs a failed fetch; a dead-lettered object is also recorded as failed, with what it had published. */
export async function reportFailure(
  deps: Pick<StatusDeps, 'status'>,
  log: Logger,
  result: Outcome,
  objectId: string | undefined,
  source: string,
  counts: StageResult,
): Promise<Outcome> {
  if (result.kind === 'retryLater') {
    log.warn({ objectId, code: result.code, detail: result.detail }, 'fetch failed; will retry');
  }
  if (result.kind !== 'deadLetter') return result;
  log.warn(
    { objectId, reason: result.reason, description: result.description, batchesPublished: counts.batchesPublished },
    'object dead-lettered',
  );
  if (objectId !== undefined) {
    try {
      await deps.status.markFailed({
        objectId,
        source,
        batchCount: counts.batchesPublished,
        recordCount: counts.records,
        badRecords: counts.badRecords,
        droppedRecords: counts.droppedRecords,
        rawBytes: counts.rawBytes,
        badSamples: counts.badSamples,
        reason: result.reason,
        description: result.description,
      });
    } catch (err) {
      log.warn({ err, objectId }, 'could not record the failure in the status table');
    }
  }
  return result;
}
