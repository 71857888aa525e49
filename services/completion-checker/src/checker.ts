import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@logferry/shared/logging/logger';
import type { ReportReader } from './report-reader.ts';
import type { StaleSweeper } from './stale-sweeper.ts';

export interface CheckerOptions {
  readonly reader: Pick<ReportReader, 'pollOnce'>;
  readonly sweeper: Pick<StaleSweeper, 'sweepOnce'>;
  /** Only the holder reads and sweeps. */
  readonly lease: { readonly held: boolean };
  readonly pollIntervalMs: number;
  readonly staleCheckIntervalMs: number;
  readonly logger: Logger;
  /** Called after a failed poll (e.g. to refetch the queue URLs). */
  readonly onPollError?: (error: unknown) => void;
}

/** Runs the report reader and the stale sweeper while the lease is held; stop() lets the current step finish. */
export class CompletionChecker {
  readonly #options: CheckerOptions;
  readonly #stop = new AbortController();
  #loops: Promise<void>[] = [];
  #lastPollOk = true;

  constructor(options: CheckerOptions) {
    this.#options = options;
  }

  get healthy(): boolean {
    return this.#lastPollOk;
  }

  start(): void {
    this.#loops = [this.#readLoop(), this.#sweepLoop()];
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await Promise.all(this.#loops);
  }

  async #pause(ms: number): Promise<void> {
    await sleep(ms, undefined, { signal: this.#stop.signal }).catch(() => undefined);
  }

  async #readLoop(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      if (!this.#options.lease.held) {
        await this.#pause(Math.min(this.#options.pollIntervalMs, 1_000));
        continue;
      }
      let received = 0;
      try {
        received = await this.#options.reader.pollOnce();
        this.#lastPollOk = true;
      } catch (error) {
        this.#lastPollOk = false;
        this.#options.logger.warn({ err: error }, 'reading the status queues failed; retrying');
        this.#options.onPollError?.(error);
      }
      if (received === 0) await this.#pause(this.#options.pollIntervalMs);
    }
  }

  async #sweepLoop(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.#pause(this.#options.staleCheckIntervalMs);
      if (this.#stop.signal.aborted || !this.#options.lease.held) continue;
      try {
        const counts = await this.#options.sweeper.sweepOnce();
        if (counts.unknown + counts.succeeded > 0) this.#options.logger.info(counts, 'stale rows handled');
      } catch (error) {
        this.#options.logger.warn({ err: error }, 'stale-row check failed; retrying at the next interval');
      }
    }
  }
}
