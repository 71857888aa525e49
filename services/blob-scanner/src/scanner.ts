import { hostname } from 'node:os';
import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from '@logferry/shared/logging/logger';
import { scrubExternalText } from '@logferry/shared/logging/redact';
import type { BlobRef, BlobStatusRow, BlobStatusStore, ScanView } from '@logferry/shared/stores/blob-status';
import type { Publisher } from '@logferry/shared/transport/port';
import { forEachLimit } from './for-each-limit.ts';
import { listBlobPages } from './listing/list-blob-pages.ts';
import type { EventBus } from './live/event-bus.ts';
import { EMPTY_BLOB_REASON, publishClaimed, publishSkipped, type QueueingDeps } from './queue-claimed.ts';
import { emptyCounts, newScanId, type ScanRecord, type ScanRecordStore, type ScanTrigger } from './scan-records.ts';

export { EMPTY_BLOB_REASON } from './queue-claimed.ts';

const RECENT_SCANS = 20;
const PROGRESS_SAVE_MS = 1_000;

export interface ScannerOptions {
  readonly container: ContainerClient;
  readonly store: Pick<
    BlobStatusStore,
    'claim' | 'recordSkipped' | 'markPublished' | 'releaseClaim' | 'scanViews' | 'claimNeeded'
  >;
  readonly scans: Pick<ScanRecordStore, 'save'>;
  readonly publisher: Publisher;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly pageSize: number;
  readonly claimConcurrency: number;
  readonly publishBatch: number;
  readonly maxAttempts: number;
  readonly replica?: string;
  readonly now?: () => Date;
}

export type StartResult =
  | { readonly kind: 'started'; readonly scan: ScanRecord; readonly done: Promise<ScanRecord> }
  /** A scan with the same prefix is already running here: the caller follows that one. */
  | { readonly kind: 'joined'; readonly scan: ScanRecord; readonly done: Promise<ScanRecord> }
  /** A scan with another prefix is running here; one scan at a time per replica. */
  | { readonly kind: 'busy'; readonly scan: ScanRecord };

interface Running {
  record: ScanRecord;
  done: Promise<ScanRecord>;
  /** performance.now() of the last progress write to the table. */
  savedAt: number;
}

/**
 * Lists the data container page by page and queues every blob that is new, changed, or failed with
 * attempts left. The claim (an optimistic-concurrency write on the blob's status row) comes before the
 * publish, so of several scanners racing on one blob exactly one publishes it.
 *
 * Publish failure: the claimed rows are moved to `unknown` with the reason (visible on the page) so the
 * next scan or the completion checker requeues them; if even that write fails, the completion checker's
 * timeout on rows stuck in `queued` is the backstop. A row is never left `queued` with nothing published
 * for longer than that timeout.
 */
export class Scanner {
  readonly #options: ScannerOptions;
  readonly #replica: string;
  readonly #now: () => Date;
  readonly #recent = new Map<string, ScanRecord>();
  readonly #abort = new AbortController();
  #running: Running | undefined;

  constructor(options: ScannerOptions) {
    this.#options = options;
    this.#replica = options.replica ?? `${hostname()}:${process.pid}`;
    this.#now = options.now ?? (() => new Date());
  }

  get running(): ScanRecord | undefined {
    return this.#running?.record;
  }

  /** The scan running now, else the last one this replica finished (the page's scan card starts with it). */
  get latest(): ScanRecord | undefined {
    return this.#running?.record ?? [...this.#recent.values()].at(-1);
  }

  /** A scan this replica ran recently (others are read from the status table). */
  recent(scanId: string): ScanRecord | undefined {
    return this.#running?.record.scanId === scanId ? this.#running.record : this.#recent.get(scanId);
  }

  start(options: { prefix?: string | undefined; trigger: ScanTrigger }): StartResult {
    const prefix = options.prefix || undefined;
    if (this.#running) {
      const current = this.#running;
      if (current.record.prefix === prefix) return { kind: 'joined', scan: current.record, done: current.done };
      return { kind: 'busy', scan: current.record };
    }
    if (this.#abort.signal.aborted) throw new Error('scanner is stopped');
    const at = this.#now().toISOString();
    const record: ScanRecord = {
      scanId: newScanId(this.#now()),
      state: 'running',
      trigger: options.trigger,
      container: this.#options.container.containerName,
      ...(prefix === undefined ? {} : { prefix }),
      replica: this.#replica,
      startedAt: at,
      updatedAt: at,
      counts: emptyCounts(),
    };
    const running: Running = { record, done: Promise.resolve(record), savedAt: 0 };
    this.#running = running;
    running.done = this.#run(running).finally(() => {
      this.#running = undefined;
      this.#recent.set(running.record.scanId, running.record);
      if (this.#recent.size > RECENT_SCANS) this.#recent.delete(this.#recent.keys().next().value!);
    });
    return { kind: 'started', scan: record, done: running.done };
  }

  /** Stops intake of new blobs; what was claimed is still published; resolves when the scan ends. */
  async stop(): Promise<void> {
    this.#abort.abort(new Error('scanner stopping'));
    await this.#running?.done.catch(() => undefined);
  }

  async #run(running: Running): Promise<ScanRecord> {
    const { logger } = this.#options;
    const scanId = running.record.scanId;
    const log = logger.child({ scanId, prefix: running.record.prefix });
    log.info({ trigger: running.record.trigger }, 'scan started');
    await this.#save(running, {});
    try {
      // Read while the first listing page comes.
      const viewsRead = this.#views(running.record.prefix, log);
      const pages = listBlobPages(this.#options.container, {
        prefix: running.record.prefix,
        pageSize: this.#options.pageSize,
      });
      const container = this.#options.container.containerName;
      for await (const page of pages) {
        const items = page.map((b): BlobRef => ({ container, name: b.name, etag: b.etag, size: b.size }));
        await this.#scanPage(running, items, await viewsRead, log);
        await this.#save(running, {}, true);
        if (this.#abort.signal.aborted) throw this.#abort.signal.reason;
      }
      await this.#save(running, { state: 'completed', finishedAt: this.#now().toISOString() });
      log.info({ counts: running.record.counts }, 'scan completed');
    } catch (error) {
      // Served by GET /scans/{id} and the page: the storage SDK's text, scrubbed and bounded.
      const message = scrubExternalText(error instanceof Error ? error.message : String(error));
      await this.#save(running, { state: 'failed', finishedAt: this.#now().toISOString(), error: message });
      log.error({ err: error, counts: running.record.counts }, 'scan failed');
    }
    return running.record;
  }

  async #scanPage(
    running: Running,
    items: readonly BlobRef[],
    views: ReadonlyMap<string, ScanView> | undefined,
    log: Logger,
  ): Promise<void> {
    const counts = { ...running.record.counts };
    const claimed: BlobStatusRow[] = [];
    const scanId = running.record.scanId;
    await forEachLimit(items, this.#options.claimConcurrency, async (blob) => {
      if (this.#abort.signal.aborted) return;
      counts.listed++;
      // An unchanged blob costs nothing more than its share of the scan's one read.
      if (views?.has(blob.name) && !this.#options.store.claimNeeded(views.get(blob.name), blob)) {
        counts.unchanged++;
        return;
      }
      try {
        if (blob.size === 0) {
          const outcome = await this.#options.store.recordSkipped(blob, scanId, EMPTY_BLOB_REASON);
          if (outcome === 'claimed') {
            counts.skipped++;
            this.#options.events.publish({
              type: 'blob',
              container: blob.container,
              blobName: blob.name,
              status: 'skipped',
            });
            await publishSkipped(this.#queueing(), blob, log);
          } else counts[outcome === 'lost-race' ? 'lostRace' : 'unchanged']++;
          return;
        }
        const { outcome, row } = await this.#options.store.claim(blob, scanId, this.#options.maxAttempts);
        if (outcome === 'claimed' && row) claimed.push(row);
        else counts[outcome === 'lost-race' ? 'lostRace' : 'unchanged']++;
      } catch (error) {
        counts.failed++;
        log.warn({ err: error, blobName: blob.name }, 'could not claim blob; the next scan retries it');
      }
    });
    await publishClaimed(this.#queueing(), claimed, scanId, counts, log);
    running.record = { ...running.record, counts };
  }

  /** The status rows the listing is compared with, in one paged read; undefined (each blob is then read by its claim) if it fails. */
  #queueing(): QueueingDeps {
    const { store, publisher, events, claimConcurrency, publishBatch } = this.#options;
    return { store, publisher, events, claimConcurrency, publishBatch, now: this.#now };
  }

  async #views(prefix: string | undefined, log: Logger): Promise<Map<string, ScanView> | undefined> {
    try {
      return await this.#options.store.scanViews(this.#options.container.containerName, prefix);
    } catch (error) {
      log.warn({ err: error }, 'could not read the status rows; reading them blob by blob');
      return undefined;
    }
  }

  /**
   * Publishes the scan's progress; writes it to the table (for other replicas) at most once a second while
   * pages go by quickly (a rescan of unchanged blobs), and always for a state change.
   */
  async #save(running: Running, patch: Partial<ScanRecord>, progressOnly = false): Promise<void> {
    running.record = { ...running.record, ...patch, updatedAt: this.#now().toISOString() };
    this.#options.events.publish({ type: 'scan', scan: running.record });
    const now = performance.now();
    if (progressOnly && now - running.savedAt < PROGRESS_SAVE_MS) return;
    running.savedAt = now;
    try {
      await this.#options.scans.save(running.record);
    } catch (error) {
      // Progress stays visible on this replica; only other replicas' GET /scans/{id} lags.
      this.#options.logger.warn({ err: error, scanId: running.record.scanId }, 'could not save scan progress');
    }
  }
}
