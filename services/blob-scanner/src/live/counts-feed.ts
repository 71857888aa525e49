import type { Logger } from '@logferry/shared/logging/logger';
import type { BlobStatus, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { EventBus } from './event-bus.ts';

export type Counts = Record<BlobStatus, number>;

/**
 * Keeps counts per status fresh on open pages. Re-reads them periodically while anyone listens (catching
 * changes other replicas and stages made, like `ingesting`, which publish no event), and soon after any
 * local change; publishes only when they differ from what was last sent.
 */
export class CountsFeed {
  readonly #store: Pick<BlobStatusStore, 'countsByStatus'>;
  readonly #events: EventBus;
  readonly #logger: Logger;
  readonly #container: string;
  readonly #intervalMs: number;
  readonly #debounceMs: number;
  #last = '';
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: {
    store: Pick<BlobStatusStore, 'countsByStatus'>;
    events: EventBus;
    logger: Logger;
    container: string;
    intervalMs: number;
    debounceMs?: number;
  }) {
    this.#store = options.store;
    this.#events = options.events;
    this.#logger = options.logger;
    this.#container = options.container;
    this.#intervalMs = options.intervalMs;
    this.#debounceMs = options.debounceMs ?? 750;
  }

  start(): void {
    this.#timer = setInterval(() => {
      // The bus's own subscription is one listener; more means a page is open.
      if (this.#events.listenerCount > 1) void this.refresh();
    }, this.#intervalMs);
    this.#timer.unref();
    this.#unsubscribe = this.#events.subscribe((e) => {
      if (e.type === 'counts' || e.type === 'pipeline' || this.#soon) return;
      this.#soon = setTimeout(() => {
        this.#soon = undefined;
        void this.refresh();
      }, this.#debounceMs);
      this.#soon.unref();
    });
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#unsubscribe?.();
  }

  /** Reads the counts (one read at a time) and publishes them if they changed. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<void> {
    try {
      const counts = await this.#store.countsByStatus({ container: this.#container });
      const key = JSON.stringify(counts);
      if (key === this.#last) return;
      this.#last = key;
      this.#events.publish({ type: 'counts', counts });
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read counts per status');
    }
  }
}
