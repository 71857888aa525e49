import type { Logger } from '@logferry/shared/logging/logger';
import type { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { Publisher } from '@logferry/shared/transport/port';
import { ingestRequestFor, resultFor } from './results.ts';

export interface StaleSweeperOptions {
  readonly store: Pick<BlobStatusStore, 'findStale' | 'markUnknown' | 'requeue' | 'markSucceeded' | 'markPublished'>;
  readonly publisher: Publisher;
  readonly logger: Logger;
  readonly staleAfterMs: number;
  readonly limit: number;
  /** Rescues after ADX silence per blob version; they do not use up attempts. */
  readonly maxRescues: number;
  /** With FailuresOnly, silence after a successful post means success (ADX reports only failures). */
  readonly reportLevel: 'FailuresAndSuccesses' | 'FailuresOnly';
  readonly now?: () => Date;
}

/**
 * Rows ADX said nothing about: posted (`ingesting` with postedAt) past STALE_AFTER_MS, they become `unknown`
 * and `queued` again with a new ingest request — a rescue, which keeps the blob's attempts (ADX's silence is
 * not the blob's fault), up to maxRescues. Rows not yet posted are not this timeout's business: an
 * unpublished claim is the scanner's (its lease), a request on the bus is adx-ingester's. Each step
 * re-checks the row; a crash between steps leaves a row the next sweep (or scan) picks up again.
 */
export class StaleSweeper {
  readonly #options: StaleSweeperOptions;

  constructor(options: StaleSweeperOptions) {
    this.#options = options;
  }

  async sweepOnce(): Promise<{ unknown: number; requeued: number; succeeded: number }> {
    const now = this.#options.now?.() ?? new Date();
    const cutoff = new Date(now.getTime() - this.#options.staleAfterMs).toISOString();
    const counts = { unknown: 0, requeued: 0, succeeded: 0 };
    const rows = await this.#options.store.findStale({
      statuses: ['ingesting'],
      olderThanMs: this.#options.staleAfterMs,
      limit: this.#options.limit,
    });
    const minutes = Math.round(this.#options.staleAfterMs / 6_000) / 10;
    for (const row of rows) {
      if (!row.postedAt) continue;
      const log = this.#options.logger.child({ container: row.container, blob: row.blobName });
      if (this.#options.reportLevel === 'FailuresOnly' && row.status === 'ingesting' && row.postedAt && row.sourceId) {
        const done = await this.#options.store.markSucceeded(
          row.container,
          row.blobName,
          row.sourceId,
          `no failure reported within ${minutes} min`,
        );
        if (done.applied) {
          counts.succeeded++;
          await this.#publishResult(done.row, 'succeeded');
        }
        continue;
      }
      const reason = `no ingestion report within ${minutes} min (was ${row.status})`;
      const unknown = await this.#options.store.markUnknown(row.container, row.blobName, reason, {
        olderThan: cutoff,
        expect: { etag: row.etag },
      });
      if (!unknown.applied) continue;
      counts.unknown++;
      await this.#publishResult(unknown.row, 'unknown');
      const queued = await this.#options.store.requeue(
        row.container,
        row.blobName,
        'queued again after the timeout',
        { etag: row.etag },
        { maxRescues: this.#options.maxRescues },
      );
      if (!queued.applied) {
        log.warn({ attempts: row.attempts, reason: queued.reason }, 'no report and no attempts left: stays unknown');
        continue;
      }
      await this.#options.publisher.publish('ingest-requests', [ingestRequestFor(queued.row)]);
      await this.#options.store.markPublished(queued.row);
      counts.requeued++;
      await this.#publishResult(queued.row, 'queued');
      log.warn({ attempt: queued.row.attempts, rescues: queued.row.rescues ?? 0 }, 'no report in time; queued again');
    }
    return counts;
  }

  async #publishResult(
    row: Parameters<typeof resultFor>[0],
    status: 'succeeded' | 'unknown' | 'queued',
  ): Promise<void> {
    const message = resultFor(row, status);
    if (message) await this.#options.publisher.publish('ingestion-results', [message]);
  }
}
