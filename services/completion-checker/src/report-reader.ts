import type { QueueClient } from '@azure/storage-queue';
import type { Logger } from '@logferry/shared/logging/logger';
import { type ApplyDeps, type ApplyOutcome, applyReport } from './apply-report.ts';
import { decodeReport } from './status-report.ts';

export interface StatusQueues {
  readonly success: readonly QueueClient[];
  readonly failure: readonly QueueClient[];
}

export interface ReportReaderOptions extends ApplyDeps {
  /** Current queue clients (ADX rotates the SAS in their URLs; the provider refreshes them). */
  readonly queues: () => Promise<StatusQueues>;
  readonly batchSize: number;
  readonly visibilityTimeoutS: number;
  readonly foreignReports: 'hide' | 'delete';
  readonly foreignHideS: number;
  readonly logger: Logger;
  readonly onOutcome?: (outcome: ApplyOutcome | 'error', kind: 'success' | 'failure') => void;
}

/**
 * Reads ADX's status queues in batches with @azure/storage-queue (not the SDK's pop, which deletes
 * before we act): each report is applied to its row and deleted only after that save. A report that
 * fails to apply stays on the queue and reappears after the visibility timeout.
 */
export class ReportReader {
  readonly #options: ReportReaderOptions;

  constructor(options: ReportReaderOptions) {
    this.#options = options;
  }

  /** One batch from every queue; resolves with the number of reports received. */
  async pollOnce(): Promise<number> {
    const queues = await this.#options.queues();
    let received = 0;
    for (const [kind, list] of [
      ['success', queues.success],
      ['failure', queues.failure],
    ] as const) {
      for (const queue of list) received += await this.#drainBatch(kind, queue);
    }
    return received;
  }

  async #drainBatch(kind: 'success' | 'failure', queue: QueueClient): Promise<number> {
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: this.#options.batchSize,
      visibilityTimeout: this.#options.visibilityTimeoutS,
    });
    for (const item of receivedMessageItems) {
      const log = this.#options.logger.child({ queue: queue.name, messageId: item.messageId });
      let outcome: ApplyOutcome | 'error';
      try {
        const report = decodeReport(kind, item.messageText);
        outcome = report.kind === 'unreadable' ? 'foreign' : await applyReport(this.#options, report);
        if (outcome === 'foreign') {
          // Never silently: a report we cannot match may be ours in a shape we failed to read.
          log.warn(
            {
              sourceId: report.kind === 'unreadable' ? undefined : report.IngestionSourceId,
              reason: report.kind === 'unreadable' ? report.reason : 'no status row has this source id',
              action: this.#options.foreignReports === 'hide' ? 'left on the queue' : 'deleted',
            },
            'status report we cannot match to a blob',
          );
        }
        if (outcome === 'foreign' && this.#options.foreignReports === 'hide') {
          // Shared queue: leave it for its owner, out of our way for a while.
          await queue.updateMessage(item.messageId, item.popReceipt, undefined, this.#options.foreignHideS);
        } else {
          await queue.deleteMessage(item.messageId, item.popReceipt);
        }
      } catch (error) {
        outcome = 'error';
        log.warn({ err: error }, 'could not apply a status report; it reappears after the visibility timeout');
      }
      this.#options.onOutcome?.(outcome, kind);
    }
    return receivedMessageItems.length;
  }
}
