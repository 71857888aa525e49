import { odata, type TableClient } from '@azure/data-tables';
import {
  claimLapsed,
  claimNeeded,
  isRetryable,
  readScanViews,
  readStatuses,
  type ScanView,
  successor,
} from './blob-scan-view.ts';
import {
  appendHistory,
  BLOB_KIND,
  BLOB_STATUSES,
  type BlobStatus,
  type BlobStatusRow,
  ERROR_LIMIT,
  type FailureStatus,
  fromEntity,
  partitionKeyOf,
  rowKeyOf,
  SOURCE_ID_PARTITION,
  storedText,
  toEntity,
  type VersionedRow,
} from './blob-status-model.ts';

export type { ScanView } from './blob-scan-view.ts';
export * from './blob-status-model.ts';

/** A blob as listed from its container. */
export interface BlobRef {
  readonly container: string;
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

export type ClaimOutcome = 'claimed' | 'unchanged' | 'lost-race';

export type TransitionResult =
  | { readonly applied: true; readonly row: BlobStatusRow }
  | { readonly applied: false; readonly row: BlobStatusRow | undefined; readonly reason: string };

/** Preconditions a transition re-checks on every optimistic-concurrency attempt. */
export interface Expect {
  /** The row must carry this ingestion source id (a report for an older ingestion is stale). */
  readonly sourceId?: string;
  /** The row must describe this blob version. */
  readonly etag?: string;
}

export interface FailureInfo {
  readonly reason: string;
  readonly errorCode?: string;
  readonly failureStatus?: FailureStatus;
  /** True for transient faults: with attempts left the row goes back to `queued` (the caller republishes). */
  readonly retryable: boolean;
  /**
   * False: end `failed` now even if retryable (no one will republish); a later scan re-claims it while
   * attempts remain. Default true.
   */
  readonly requeue?: boolean;
}

export interface ListOptions {
  readonly container?: string;
  readonly status?: BlobStatus;
  /** Blob name prefix. */
  readonly prefix?: string;
  readonly pageSize: number;
  readonly continuationToken?: string;
}

type Decision = { write: BlobStatusRow } | { keep: string };

const MAX_RACE_RETRIES = 8;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTIVE: readonly BlobStatus[] = ['queued', 'ingesting', 'unknown'];

/**
 * Status rows of the Blob → ADX flow, one per blob (PartitionKey = encoded container, RowKey = encoded
 * name), in the status table shared by the stages. Every transition is a read → check → write with the
 * entity ETag (create for a new row), re-checked after a lost race, so concurrent scanners, ingesters
 * and the completion checker never overwrite each other's decisions. Every transition appends to history.
 */
export class BlobStatusStore {
  readonly #table: TableClient;
  readonly #defaultMaxAttempts: number;
  readonly #claimLeaseMs: number;
  readonly #now: () => Date;

  /**
   * claimLeaseMs: how long a `queued` row may wait for its ingest request to be published (the claimer
   * died or failed to publish) before the next scan claims it again, with the same attempt.
   */
  constructor(
    tableClient: TableClient,
    options: { defaultMaxAttempts?: number; claimLeaseMs?: number; now?: () => Date } = {},
  ) {
    this.#table = tableClient;
    this.#defaultMaxAttempts = options.defaultMaxAttempts ?? 5;
    this.#claimLeaseMs = options.claimLeaseMs ?? 120_000;
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates the table if it does not exist (idempotent). */
  async ensureTable(): Promise<void> {
    await this.#table.createTable();
  }

  async get(container: string, name: string): Promise<BlobStatusRow | undefined> {
    return (await this.#read(container, name))?.row;
  }

  /**
   * Claims a blob for queueing: when its row is missing, its etag/size changed, or it failed retryably or
   * went unknown with attempts left. Of two concurrent claimers exactly one gets 'claimed'.
   * The row (with the attempt number to publish) comes back with 'claimed'.
   */
  async claim(
    blob: BlobRef,
    scanId: string,
    maxAttempts: number,
  ): Promise<{ outcome: ClaimOutcome; row: BlobStatusRow | undefined }> {
    const result = await this.#transition(blob.container, blob.name, (current, at) => {
      if (!current || current.etag !== blob.etag || current.size !== blob.size) {
        const reason = current ? 'blob changed' : 'new blob';
        return { write: this.#fresh(blob, 'queued', scanId, maxAttempts, at, reason, current) };
      }
      if (this.#claimLapsed(current, at)) {
        // Its claimer never published (crashed, or the publish failed): ours now, and the attempt is not spent.
        const reason = `claimed again (scan ${scanId}): its ingest request was never published`;
        const row = { ...current, scanId, claimExpiresAt: this.#leaseEnd(at) };
        return { write: this.#moved(row, 'queued', at, reason) };
      }
      if (!isRetryable(current, this.#defaultMaxAttempts)) return { keep: `status ${current.status}` };
      return { write: this.#requeued(current, at, `retry (scan ${scanId})`, scanId) };
    });
    if (result.applied) return { outcome: 'claimed', row: result.row };
    return { outcome: result.raced ? 'lost-race' : 'unchanged', row: result.row };
  }

  /** What a scan compares its listing with: the container's rows (under a name prefix), in one paged read. */
  scanViews(container: string, prefix?: string): Promise<Map<string, ScanView>> {
    return readScanViews(this.#table, container, prefix);
  }

  /** True when claim() would queue this blob given its row as read by scanViews (so the claim is worth its read). */
  claimNeeded(view: ScanView | undefined, blob: BlobRef): boolean {
    return claimNeeded(view, blob, {
      defaultMaxAttempts: this.#defaultMaxAttempts,
      claimLeaseMs: this.#claimLeaseMs,
      at: this.#now().toISOString(),
    });
  }

  /** The ingest request for the row's current attempt is on the bus: its claim is done. */
  async markPublished(row: BlobStatusRow): Promise<TransitionResult> {
    return this.#transition(row.container, row.blobName, (current, at) => {
      const bad = this.#check(current, { etag: row.etag }, ['queued']);
      if (bad) return { keep: bad };
      if (current?.attempts !== row.attempts || current.publishedAt) return { keep: 'already published or moved on' };
      return { write: { ...current, publishedAt: at, claimExpiresAt: undefined } };
    });
  }

  /** The publish failed: let the next scan claim the row again at once, without spending an attempt. */
  async releaseClaim(row: BlobStatusRow, reason: string): Promise<TransitionResult> {
    return this.#transition(row.container, row.blobName, (current, at) => {
      const bad = this.#check(current, { etag: row.etag }, ['queued']);
      if (bad) return { keep: bad };
      if (current?.publishedAt) return { keep: 'already published' };
      return {
        write: { ...(current as BlobStatusRow), claimExpiresAt: at, lastError: storedText(reason, ERROR_LIMIT) },
      };
    });
  }

  /** Records a blob version the scanner will not queue (e.g. 0 bytes) as `skipped`, once per version. */
  async recordSkipped(blob: BlobRef, scanId: string, reason: string): Promise<ClaimOutcome> {
    const result = await this.#transition(blob.container, blob.name, (current, at) => {
      if (current && current.etag === blob.etag && current.size === blob.size)
        return { keep: `status ${current.status}` };
      const row = this.#fresh(blob, 'skipped', scanId, 0, at, reason, current);
      return { write: { ...row, attempts: 0, lastError: reason, finishedAt: at } };
    });
    if (result.applied) return 'claimed';
    return result.raced ? 'lost-race' : 'unchanged';
  }

  /**
   * queued → ingesting with a new source id. Writes the sourceId → row pointer first, so a report that
   * comes back for this ingestion can always be matched.
   */
  async markIngesting(
    container: string,
    name: string,
    ingestion: { sourceId: string; table: string; format: string; mapping?: string },
    expect: Expect = {},
  ): Promise<TransitionResult> {
    await this.writeSourcePointer(ingestion.sourceId, container, name);
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, expect, ['queued', 'unknown']);
      if (bad) return { keep: bad };
      // The ingester holds the request, so it was on the bus even if the scanner's markPublished lost the race
      // to this write (markPublished only marks a row still queued).
      const publishedAt = current?.publishedAt ?? at;
      const row = {
        ...current,
        ...ingestion,
        ingestingAt: at,
        publishedAt,
        postedAt: undefined,
        postFailedAt: undefined,
      };
      return { write: this.#moved(row as BlobStatusRow, 'ingesting', at, `source id ${ingestion.sourceId}`) };
    });
  }

  /** Notes that ADX's ingestion queue accepted the request for this source id. */
  async markPosted(container: string, name: string, sourceId: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, { sourceId }, ['ingesting']);
      if (bad) return { keep: bad };
      return { write: { ...current, postedAt: at, updatedAt: at } as BlobStatusRow };
    });
  }

  /** The post was refused or failed to arrive: a redelivery may post again at once (ADX did not take it). */
  async markPostFailed(container: string, name: string, sourceId: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, { sourceId }, ['ingesting']);
      if (bad) return { keep: bad };
      if (current?.postedAt) return { keep: 'posted' };
      return { write: { ...current, postFailedAt: at } as BlobStatusRow };
    });
  }

  async markSucceeded(container: string, name: string, sourceId: string, reason?: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, { sourceId }, ACTIVE);
      if (bad) return { keep: bad };
      const row = {
        ...current,
        finishedAt: at,
        lastError: undefined,
        errorCode: undefined,
        failureStatus: undefined,
        retryable: undefined,
      };
      return { write: this.#moved(row as BlobStatusRow, 'succeeded', at, reason ?? 'ingested') };
    });
  }

  /**
   * Records a failure. A retryable failure with attempts left puts the row back to `queued` with the next
   * attempt number (the caller republishes the ingest request); otherwise the row ends `failed`.
   */
  async markFailed(
    container: string,
    name: string,
    failure: FailureInfo,
    expect: Expect = {},
  ): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      // Not from `queued`: a row requeued by an earlier report (or a timeout) must not count the same failure twice.
      const bad = this.#check(current, expect, ['ingesting', 'unknown']);
      if (bad) return { keep: bad };
      const base = {
        ...current,
        lastError: storedText(failure.reason, ERROR_LIMIT),
        errorCode: failure.errorCode,
        failureStatus: failure.failureStatus,
        retryable: failure.retryable,
      } as BlobStatusRow;
      if (failure.retryable && failure.requeue !== false && base.attempts < this.#max(base)) {
        return { write: this.#requeued(base, at, `retry after: ${failure.reason}`, base.scanId) };
      }
      const exhausted = failure.retryable && base.attempts >= this.#max(base);
      const reason = exhausted ? `attempts exhausted: ${failure.reason}` : failure.reason;
      return { write: this.#moved({ ...base, finishedAt: at }, 'failed', at, reason) };
    });
  }

  async markSkipped(container: string, name: string, reason: string, expect: Expect = {}): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, expect, ACTIVE);
      if (bad) return { keep: bad };
      const row = { ...current, lastError: storedText(reason, ERROR_LIMIT), finishedAt: at, retryable: false };
      return { write: this.#moved(row as BlobStatusRow, 'skipped', at, reason) };
    });
  }

  /**
   * A row that heard nothing: queued/ingesting → unknown, only if it is still in that status and was
   * last updated before `olderThan` (another process may have moved it meanwhile).
   */
  async markUnknown(
    container: string,
    name: string,
    reason: string,
    options: { olderThan?: string; expect?: Expect } = {},
  ): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, options.expect ?? {}, ['queued', 'ingesting']);
      if (bad) return { keep: bad };
      if (options.olderThan !== undefined && current && current.updatedAt > options.olderThan) {
        return { keep: 'updated since' };
      }
      const row = { ...current, lastError: storedText(reason, ERROR_LIMIT), retryable: true };
      return { write: this.#moved(row as BlobStatusRow, 'unknown', at, reason) };
    });
  }

  /**
   * unknown / retryable failed with attempts left → queued with the next attempt number. A rescue (the row
   * went unknown because ADX stayed silent: not the blob's fault) keeps the attempt and counts a rescue
   * instead, up to maxRescues.
   */
  async requeue(
    container: string,
    name: string,
    reason: string,
    expect: Expect = {},
    rescue?: { readonly maxRescues: number },
  ): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => {
      const bad = this.#check(current, expect, ['unknown', 'failed']);
      if (bad) return { keep: bad };
      const row = current as BlobStatusRow;
      if (rescue && row.status === 'unknown' && (row.rescues ?? 0) < rescue.maxRescues) {
        const next = { ...row, rescues: (row.rescues ?? 0) + 1, attempts: row.attempts - 1 };
        return { write: this.#requeued(next, at, reason, row.scanId) };
      }
      if (!isRetryable(current, this.#defaultMaxAttempts)) return { keep: 'no attempts left' };
      return { write: this.#requeued(row, at, reason, current?.scanId) };
    });
  }

  /** Upserts the sourceId → blob pointer (PartitionKey '~sourceid', RowKey = sourceId). */
  async writeSourcePointer(sourceId: string, container: string, name: string): Promise<void> {
    if (!UUID.test(sourceId)) throw new Error(`sourceId is not a UUID: ${JSON.stringify(sourceId)}`);
    await this.#table.upsertEntity(
      {
        partitionKey: SOURCE_ID_PARTITION,
        rowKey: sourceId.toLowerCase(),
        kind: 'sourceid',
        container,
        blobName: name,
      },
      'Replace',
    );
  }

  /** The row an ingestion source id belongs to (the row's own sourceId may be newer). */
  async findBySourceId(sourceId: string): Promise<BlobStatusRow | undefined> {
    if (!UUID.test(sourceId)) return undefined;
    const pointer = await this.#getEntity(SOURCE_ID_PARTITION, sourceId.toLowerCase());
    if (!pointer || typeof pointer.container !== 'string' || typeof pointer.blobName !== 'string') return undefined;
    return this.get(pointer.container, pointer.blobName);
  }

  async list(options: ListOptions): Promise<{ rows: BlobStatusRow[]; continuationToken: string | undefined }> {
    const filters = [odata`kind eq ${BLOB_KIND}`];
    if (options.container !== undefined) filters.push(odata`PartitionKey eq ${partitionKeyOf(options.container)}`);
    if (options.status !== undefined) filters.push(odata`status eq ${options.status}`);
    if (options.prefix) filters.push(odata`blobName ge ${options.prefix} and blobName lt ${successor(options.prefix)}`);
    const pages = this.#table
      .listEntities({ queryOptions: { filter: filters.join(' and ') } })
      .byPage({ maxPageSize: options.pageSize, continuationToken: options.continuationToken });
    const { value } = await pages.next();
    const page = (value ?? []) as unknown as Record<string, unknown>[] & { continuationToken?: string };
    return { rows: page.map(fromEntity), continuationToken: page.continuationToken };
  }

  /** Every blob row's status in one container, by blob name (one paged read of two columns). */
  statuses(container: string): Promise<Map<string, BlobStatus>> {
    return readStatuses(this.#table, container);
  }

  /** Counts per status (reads the status column of every blob row; fine for status pages, not hot paths). */
  async countsByStatus(options: { container?: string } = {}): Promise<Record<BlobStatus, number>> {
    const counts = Object.fromEntries(BLOB_STATUSES.map((s) => [s, 0])) as Record<BlobStatus, number>;
    const filters = [odata`kind eq ${BLOB_KIND}`];
    if (options.container !== undefined) filters.push(odata`PartitionKey eq ${partitionKeyOf(options.container)}`);
    const entities = this.#table.listEntities<{ status?: string }>({
      queryOptions: { filter: filters.join(' and '), select: ['status'] },
    });
    for await (const e of entities) {
      const s = e.status as BlobStatus;
      if (s in counts) counts[s] += 1;
    }
    return counts;
  }

  /** Rows in the given statuses whose last update is older than `olderThanMs`, at most `limit`. */
  async findStale(options: {
    statuses: readonly BlobStatus[];
    olderThanMs: number;
    limit?: number;
  }): Promise<BlobStatusRow[]> {
    const cutoff = new Date(this.#now().getTime() - options.olderThanMs).toISOString();
    const statusFilter = options.statuses.map((s) => odata`status eq ${s}`).join(' or ');
    const filter = `${odata`kind eq ${BLOB_KIND} and updatedAt lt ${cutoff}`} and (${statusFilter || 'false'})`;
    const out: BlobStatusRow[] = [];
    for await (const e of this.#table.listEntities({ queryOptions: { filter } })) {
      out.push(fromEntity(e as Record<string, unknown>));
      if (out.length >= (options.limit ?? 1000)) break;
    }
    return out;
  }

  #max(row: BlobStatusRow): number {
    return row.maxAttempts ?? this.#defaultMaxAttempts;
  }

  #check(current: BlobStatusRow | undefined, expect: Expect, from: readonly BlobStatus[]): string | undefined {
    if (!current) return 'no status row';
    if (expect.sourceId !== undefined && current.sourceId?.toLowerCase() !== expect.sourceId.toLowerCase()) {
      return `stale: row has source id ${current.sourceId ?? 'none'}`;
    }
    if (expect.etag !== undefined && current.etag !== expect.etag) return 'stale: blob changed since';
    if (!from.includes(current.status)) return `status ${current.status}`;
    return undefined;
  }

  #fresh(
    blob: BlobRef,
    status: BlobStatus,
    scanId: string,
    maxAttempts: number,
    at: string,
    reason: string,
    previous: BlobStatusRow | undefined,
  ): BlobStatusRow {
    return {
      container: blob.container,
      blobName: blob.name,
      etag: blob.etag,
      size: blob.size,
      status,
      attempts: 1,
      maxAttempts,
      scanId,
      queuedAt: at,
      updatedAt: at,
      ...(status === 'queued' ? { claimExpiresAt: this.#leaseEnd(at) } : {}),
      history: appendHistory(previous?.history ?? [], at, status, reason),
    };
  }

  #leaseEnd(at: string): string {
    return new Date(Date.parse(at) + this.#claimLeaseMs).toISOString();
  }

  #claimLapsed(row: BlobStatusRow, at: string): boolean {
    return claimLapsed(row, at, this.#claimLeaseMs);
  }

  #requeued(row: BlobStatusRow, at: string, reason: string, scanId: string | undefined): BlobStatusRow {
    const next = {
      ...row,
      attempts: row.attempts + 1,
      queuedAt: at,
      finishedAt: undefined,
      postedAt: undefined,
      publishedAt: undefined,
      claimExpiresAt: this.#leaseEnd(at),
      scanId,
    };
    return this.#moved(next, 'queued', at, reason);
  }

  #moved(row: BlobStatusRow, status: BlobStatus, at: string, reason: string): BlobStatusRow {
    return { ...row, status, updatedAt: at, history: appendHistory(row.history, at, status, reason) };
  }

  async #transition(
    container: string,
    name: string,
    decide: (current: BlobStatusRow | undefined, at: string) => Decision,
  ): Promise<TransitionResult & { raced: boolean }> {
    let raced = false;
    for (let i = 0; i < MAX_RACE_RETRIES; i++) {
      const current = await this.#read(container, name);
      const decision = decide(current?.row, this.#now().toISOString());
      if ('keep' in decision) return { applied: false, row: current?.row, reason: decision.keep, raced };
      const written = current
        ? await this.#write(() =>
            this.#table.updateEntity(toEntity(decision.write) as never, 'Replace', { etag: current.entityEtag }),
          )
        : await this.#write(() => this.#table.createEntity(toEntity(decision.write) as never));
      if (written) return { applied: true, row: decision.write, raced };
      raced = true;
    }
    throw new Error(`status row for ${container}/${name} kept changing under ${MAX_RACE_RETRIES} attempts`);
  }

  /** True when written; false when another writer got there first (409 on create, 412/404 on replace). */
  async #write(op: () => Promise<unknown>): Promise<boolean> {
    try {
      await op();
      return true;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412 || status === 404) return false;
      throw error;
    }
  }

  async #read(container: string, name: string): Promise<VersionedRow | undefined> {
    const entity = await this.#getEntity(partitionKeyOf(container), rowKeyOf(name));
    if (!entity) return undefined;
    return { row: fromEntity(entity), entityEtag: entity.etag as string };
  }

  async #getEntity(pk: string, rk: string): Promise<Record<string, unknown> | undefined> {
    try {
      return (await this.#table.getEntity(pk, rk)) as unknown as Record<string, unknown>;
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}
