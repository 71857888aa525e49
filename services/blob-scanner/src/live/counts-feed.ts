import type { Logger } from '@logferry/shared/logging/logger';
import { BLOB_STATUSES, type BlobStatus, type BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { EventBus, LiveEvent } from './event-bus.ts';

export type Counts = Record<BlobStatus, number>;

/**
 * Keeps counts per status fresh on open pages, incrementally: the statuses of the container's rows are read
 * once (one paged read of two columns), then every blob event moves one blob from its old status to its new
 * one, with no read. A periodic re-read while anyone listens reconciles what no event reports here (other
 * replicas' scans, `ingesting`, set by adx-ingester). Publishes at most once per debounce interval, and only
 * when the counts differ from what was last sent. Memory: one map entry (name → status) per row.
 */
export class CountsFeed {
  readonly #store: Pick<BlobStatusStore, 'statuses'>;
  readonly #events: EventBus;
  readonly #logger: Logger;
  readonly #container: string;
  readonly #intervalMs: number;
  readonly #debounceMs: number;
  #statuses: Map<string, BlobStatus> | undefined;
  #counts: Counts = zeroCounts();
  /** Events heard while a read was in flight, applied on top of it. */
  #heard: Extract<LiveEvent, { type: 'blob' }>[] | undefined;
  #last = '';
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: {
    store: Pick<BlobStatusStore, 'statuses'>;
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
      if (e.type !== 'blob' || e.container !== this.#container) return;
      this.#heard?.push(e);
      if (this.#statuses && this.#apply(e.blobName, e.status)) this.#publishSoon();
    });
    void this.refresh();
  }

  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#unsubscribe?.();
  }

  /** The counts as now known; undefined before the first read. */
  get counts(): Counts | undefined {
    return this.#statuses ? { ...this.#counts } : undefined;
  }

  /** Reads every row's status again (one read at a time) and publishes the counts if they changed. */
  refresh(): Promise<void> {
    this.#inFlight ??= this.#read().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #read(): Promise<void> {
    this.#heard = [];
    try {
      const statuses = await this.#store.statuses(this.#container);
      const counts = zeroCounts();
      for (const s of statuses.values()) counts[s]++;
      const first = this.#statuses === undefined;
      this.#statuses = statuses;
      this.#counts = counts;
      // The first read is what a page reads at GET /counts: it is the baseline, not news.
      if (first) this.#last = JSON.stringify(counts);
      for (const e of this.#heard) this.#apply(e.blobName, e.status);
      this.#publish();
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not read the statuses for the counts');
    } finally {
      this.#heard = undefined;
    }
  }

  /** Moves one blob to `status`; true when the counts changed. */
  #apply(blobName: string, status: BlobStatus): boolean {
    const statuses = this.#statuses!;
    const before = statuses.get(blobName);
    if (before === status) return false;
    if (before !== undefined) this.#counts[before]--;
    this.#counts[status]++;
    statuses.set(blobName, status);
    return true;
  }

  #publishSoon(): void {
    if (this.#soon) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.#publish();
    }, this.#debounceMs);
    this.#soon.unref();
  }

  #publish(): void {
    const key = JSON.stringify(this.#counts);
    if (key === this.#last) return;
    this.#last = key;
    this.#events.publish({ type: 'counts', counts: { ...this.#counts } });
  }
}

function zeroCounts(): Counts {
  return Object.fromEntries(BLOB_STATUSES.map((s) => [s, 0])) as Counts;
}
