import type { Logger } from '@logferry/shared';
import type { RecordRange } from '@logferry/shared/stores/batch-status';
import { backoffDelay, sleep } from '@logferry/shared/transport/backoff';
import type { Failure } from '@logferry/shared/transport/port';
import type { LogsIngestionClient, UploadAnswer } from './logs-ingestion-client.ts';
import { chunkRanges, halve } from './upload-plan.ts';

export interface UploadPolicy {
  readonly maxRequestBytes: number;
  /** Time one delivery may spend waiting in place for retries before handing the message back. */
  readonly inlineRetryMs: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
}

/** Done, or the failed outcome the delivery ends with. */
export type UploadRecordsResult = { readonly kind: 'done' } | Failure;

export interface UploadRecordsArgs {
  /** Byte length of each record of the batch. */
  readonly lineBytes: readonly number[];
  /** The gzip request body for a range of records (see requestBodies). */
  readonly bodyFor: (range: RecordRange) => Promise<Buffer>;
  readonly pending: readonly RecordRange[];
  readonly client: Pick<LogsIngestionClient, 'upload'>;
  readonly policy: UploadPolicy;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Called after every accepted request with that request's range. */
  readonly onAccepted: (range: RecordRange, answer: UploadAnswer) => Promise<void>;
  readonly onAnswer?: (answer: UploadAnswer) => void;
  /** False once the batch's claim was taken over (our lease lapsed): stop before sending more. */
  readonly stillClaimed?: () => boolean;
  readonly now?: () => number;
}

/**
 * Sends the pending records in order, one request at a time, under the size limit: 413 halves the
 * request; 429 waits for Retry-After and 5xx/timeouts back off, in place while the inline budget
 * lasts (the lock is renewed meanwhile) and otherwise by handing the message back; other 4xx stop.
 * In-place waiting matters: once part of a batch is in, a hand-back costs a status-table write.
 */
export async function uploadRecords(args: UploadRecordsArgs): Promise<UploadRecordsResult> {
  const { lineBytes, client, policy, signal, logger } = args;
  const now = args.now ?? (() => performance.now());
  const started = now();
  const queue = chunkRanges(lineBytes, args.pending, policy.maxRequestBytes);
  let faults = 0;

  // Waits in place if the budget allows; false means hand the message back.
  const waitInPlace = async (delayMs: number): Promise<boolean> => {
    if (now() - started + delayMs > policy.inlineRetryMs) return false;
    try {
      await sleep(delayMs, signal);
      return true;
    } catch {
      return false;
    }
  };

  while (queue.length > 0) {
    const range = queue[0] as RecordRange;
    if (signal.aborted) return { kind: 'retryLater', code: 'Interrupted', detail: 'lock lost or shutting down' };
    if (args.stillClaimed?.() === false)
      return { kind: 'retryLater', code: 'ClaimLost', detail: 'another delivery took the batch over' };
    const answer = await client.upload(await args.bodyFor(range), signal);
    args.onAnswer?.(answer);
    switch (answer.kind) {
      case 'accepted':
        queue.shift();
        faults = 0;
        await args.onAccepted(range, answer);
        break;
      case 'tooLarge': {
        const halves = halve(range);
        if (!halves) {
          return {
            kind: 'deadLetter',
            reason: 'RecordTooLarge',
            description: `record ${range.start} alone is refused as too large by the Logs Ingestion API: ${answer.detail}`,
          };
        }
        logger.info({ start: range.start, end: range.end }, 'request too large (413); splitting it in halves');
        queue.splice(0, 1, ...halves);
        break;
      }
      case 'throttled': {
        faults += 1;
        const delayMs = answer.retryAfterMs ?? backoffDelay(faults, policy.backoff.baseMs, policy.backoff.maxMs);
        logger.info({ status: answer.status, delayMs }, 'throttled by the Logs Ingestion API');
        if (!(await waitInPlace(delayMs))) {
          return { kind: 'retryLater', code: 'LogsIngestionThrottled', detail: answer.detail, delayMs };
        }
        break;
      }
      case 'transient': {
        if (signal.aborted) return { kind: 'retryLater', code: 'Interrupted', detail: 'lock lost or shutting down' };
        faults += 1;
        const delayMs = backoffDelay(faults, policy.backoff.baseMs, policy.backoff.maxMs);
        logger.warn({ status: answer.status, detail: answer.detail, delayMs }, 'transient upload failure');
        if (!(await waitInPlace(delayMs))) {
          return { kind: 'retryLater', code: 'LogsIngestionUnavailable', detail: answer.detail };
        }
        break;
      }
      case 'misconfigured':
        // Every batch would fail the same way: keep the message for after the deployment is fixed.
        logger.error(
          { status: answer.status, detail: answer.detail },
          'the Logs Ingestion API refused our identity or configuration',
        );
        return { kind: 'retryLater', code: 'LogsIngestionMisconfigured', detail: answer.detail };
      case 'rejected':
        return { kind: 'deadLetter', reason: 'LogsIngestionRejected', description: answer.detail };
    }
  }
  return { kind: 'done' };
}
