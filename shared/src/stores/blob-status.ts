import type { TableClient } from '@azure/data-tables';
import { decideClaim, decidePublished, decideReleaseClaim, decideSkippedVersion } from './blob-claim-decisions.ts';
import { type BlobRef, checkRow, type Decision, type Expect, type RowPolicy } from './blob-row-rules.ts';
import { readRow, type TransitionResult, transitionRow } from './blob-row-transition.ts';
import { claimNeeded, readScanViews, readStatuses, type ScanView } from './blob-scan-view.ts';
import {
  decideFailed,
  decideIngesting,
  decidePosted,
  decidePostFailed,
  decideRequeue,
  decideSkipped,
  decideSucceeded,
  decideUnknown,
  type FailureInfo,
  type IngestionInfo,
} from './blob-settle-decisions.ts';
import type { BlobStatus, BlobStatusRow } from './blob-status-model.ts';
import {
  countRowsByStatus,
  findBySourceId,
  findStaleRows,
  type ListOptions,
  listRows,
  writeSourcePointer,
} from './blob-status-queries.ts';

export type { BlobRef, Expect } from './blob-row-rules.ts';
export type { TransitionResult } from './blob-row-transition.ts';
export type { ScanView } from './blob-scan-view.ts';
export type { FailureInfo, IngestionInfo } from './blob-settle-decisions.ts';
export * from './blob-status-model.ts';
export type { ListOptions } from './blob-status-queries.ts';

export type ClaimOutcome = 'claimed' | 'unchanged' | 'lost-race';

/**
 * Status rows of the Blob → ADX flow, one per blob (PartitionKey = encoded container, RowKey = encoded
 * name), in the status table shared by the stages. Every transition is a read → check → write with the
 * entity ETag (create for a new row), re-checked after a lost race, so concurrent scanners, ingesters
 * and the completion checker never overwrite each other's decisions. Every transition appends to history.
 * The decisions live in blob-claim-decisions.ts (scanner) and blob-settle-decisions.ts (ingester, checker).
 */
export class BlobStatusStore {
  readonly #table: TableClient;
  readonly #policy: RowPolicy;
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
    this.#policy = {
      defaultMaxAttempts: options.defaultMaxAttempts ?? 5,
      claimLeaseMs: options.claimLeaseMs ?? 120_000,
    };
    this.#now = options.now ?? (() => new Date());
  }

  /** Creates the table if it does not exist (idempotent). */
  async ensureTable(): Promise<void> {
    await this.#table.createTable();
  }

  async get(container: string, name: string): Promise<BlobStatusRow | undefined> {
    return (await readRow(this.#table, container, name))?.row;
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
    const result = await this.#transition(blob.container, blob.name, (current, at) =>
      decideClaim(current, at, blob, { scanId, maxAttempts }, this.#policy),
    );
    if (result.applied) return { outcome: 'claimed', row: result.row };
    return { outcome: result.raced ? 'lost-race' : 'unchanged', row: result.row };
  }

  /** What a scan compares its listing with: the container's rows (under a name prefix), in one paged read. */
  scanViews(container: string, prefix?: string): Promise<Map<string, ScanView>> {
    return readScanViews(this.#table, container, prefix);
  }

  /** True when claim() would queue this blob given its row as read by scanViews (so the claim is worth its read). */
  claimNeeded(view: ScanView | undefined, blob: BlobRef): boolean {
    return claimNeeded(view, blob, { ...this.#policy, at: this.#now().toISOString() });
  }

  /** The ingest request for the row's current attempt is on the bus: its claim is done. */
  async markPublished(row: BlobStatusRow): Promise<TransitionResult> {
    return this.#transition(row.container, row.blobName, (current, at) => {
      const bad = checkRow(current, { etag: row.etag }, ['queued']);
      return bad ? { keep: bad } : decidePublished(current as BlobStatusRow, at, row);
    });
  }

  /** The publish failed: let the next scan claim the row again at once, without spending an attempt. */
  async releaseClaim(row: BlobStatusRow, reason: string): Promise<TransitionResult> {
    return this.#transition(row.container, row.blobName, (current, at) => {
      const bad = checkRow(current, { etag: row.etag }, ['queued']);
      return bad ? { keep: bad } : decideReleaseClaim(current as BlobStatusRow, at, reason);
    });
  }

  /** Records a blob version the scanner will not queue (e.g. 0 bytes) as `skipped`, once per version. */
  async recordSkipped(blob: BlobRef, scanId: string, reason: string): Promise<ClaimOutcome> {
    const result = await this.#transition(blob.container, blob.name, (current, at) =>
      decideSkippedVersion(current, at, blob, scanId, reason, this.#policy),
    );
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
    ingestion: IngestionInfo,
    expect: Expect = {},
  ): Promise<TransitionResult> {
    await this.writeSourcePointer(ingestion.sourceId, container, name);
    return this.#transition(container, name, (current, at) => decideIngesting(current, at, ingestion, expect));
  }

  /** Notes that ADX's ingestion queue accepted the request for this source id. */
  async markPosted(container: string, name: string, sourceId: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => decidePosted(current, at, sourceId));
  }

  /** The post was refused or failed to arrive: a redelivery may post again at once (ADX did not take it). */
  async markPostFailed(container: string, name: string, sourceId: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => decidePostFailed(current, at, sourceId));
  }

  async markSucceeded(container: string, name: string, sourceId: string, reason?: string): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => decideSucceeded(current, at, sourceId, reason));
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
    return this.#transition(container, name, (current, at) => decideFailed(current, at, failure, expect, this.#policy));
  }

  async markSkipped(container: string, name: string, reason: string, expect: Expect = {}): Promise<TransitionResult> {
    return this.#transition(container, name, (current, at) => decideSkipped(current, at, reason, expect));
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
    return this.#transition(container, name, (current, at) => decideUnknown(current, at, reason, options));
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
    return this.#transition(container, name, (current, at) =>
      decideRequeue(current, at, reason, expect, rescue, this.#policy),
    );
  }

  /** Upserts the sourceId → blob pointer (PartitionKey '~sourceid', RowKey = sourceId). */
  writeSourcePointer(sourceId: string, container: string, name: string): Promise<void> {
    return writeSourcePointer(this.#table, sourceId, container, name);
  }

  /** The row an ingestion source id belongs to (the row's own sourceId may be newer). */
  findBySourceId(sourceId: string): Promise<BlobStatusRow | undefined> {
    return findBySourceId(this.#table, sourceId);
  }

  list(options: ListOptions): Promise<{ rows: BlobStatusRow[]; continuationToken: string | undefined }> {
    return listRows(this.#table, options);
  }

  /** Every blob row's status in one container, by blob name (one paged read of two columns). */
  statuses(container: string): Promise<Map<string, BlobStatus>> {
    return readStatuses(this.#table, container);
  }

  /** Counts per status (reads the status column of every blob row; fine for status pages, not hot paths). */
  countsByStatus(options: { container?: string } = {}): Promise<Record<BlobStatus, number>> {
    return countRowsByStatus(this.#table, options);
  }

  /** Rows in the given statuses whose last update is older than `olderThanMs`, at most `limit`. */
  findStale(options: {
    statuses: readonly BlobStatus[];
    olderThanMs: number;
    limit?: number;
  }): Promise<BlobStatusRow[]> {
    const cutoff = new Date(this.#now().getTime() - options.olderThanMs).toISOString();
    return findStaleRows(this.#table, { statuses: options.statuses, cutoff, limit: options.limit });
  }

  #transition(
    container: string,
    name: string,
    decide: (current: BlobStatusRow | undefined, at: string) => Decision,
  ): Promise<TransitionResult & { raced: boolean }> {
    return transitionRow(this.#table, this.#now, container, name, decide);
  }
}
