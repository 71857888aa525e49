import { appendHistory, type BlobStatus, type BlobStatusRow } from './blob-status-model.ts';

/** A blob as listed from its container. */
export interface BlobRef {
  readonly container: string;
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

/** Preconditions a transition re-checks on every optimistic-concurrency attempt. */
export interface Expect {
  /** The row must carry this ingestion source id (a report for an older ingestion is stale). */
  readonly sourceId?: string;
  /** The row must describe this blob version. */
  readonly etag?: string;
}

/** What a transition decides from the row it read: write this row, or keep the stored one (and why). */
export type Decision = { write: BlobStatusRow } | { keep: string };

/** The store's settings every decision needs. */
export interface RowPolicy {
  readonly defaultMaxAttempts: number;
  /** How long a `queued` row may wait for its ingest request to be published before a scan claims it again. */
  readonly claimLeaseMs: number;
}

/** The statuses a row may still be settled from. */
export const ACTIVE: readonly BlobStatus[] = ['queued', 'ingesting', 'unknown'];

export function maxAttemptsOf(row: BlobStatusRow, policy: RowPolicy): number {
  return row.maxAttempts ?? policy.defaultMaxAttempts;
}

/** Why the row may not take this transition, or undefined when it may. */
export function checkRow(
  current: BlobStatusRow | undefined,
  expect: Expect,
  from: readonly BlobStatus[],
): string | undefined {
  if (!current) return 'no status row';
  if (expect.sourceId !== undefined && current.sourceId?.toLowerCase() !== expect.sourceId.toLowerCase()) {
    return `stale: row has source id ${current.sourceId ?? 'none'}`;
  }
  if (expect.etag !== undefined && current.etag !== expect.etag) return 'stale: blob changed since';
  if (!from.includes(current.status)) return `status ${current.status}`;
  return undefined;
}

export function leaseEnd(at: string, policy: RowPolicy): string {
  return new Date(Date.parse(at) + policy.claimLeaseMs).toISOString();
}

/** The first row of a blob version (its first attempt), keeping the previous version's history. */
export function freshRow(
  blob: BlobRef,
  status: BlobStatus,
  claim: { readonly scanId: string; readonly maxAttempts: number },
  at: string,
  reason: string,
  previous: BlobStatusRow | undefined,
  policy: RowPolicy,
): BlobStatusRow {
  return {
    container: blob.container,
    blobName: blob.name,
    etag: blob.etag,
    size: blob.size,
    status,
    attempts: 1,
    maxAttempts: claim.maxAttempts,
    scanId: claim.scanId,
    queuedAt: at,
    updatedAt: at,
    ...(status === 'queued' ? { claimExpiresAt: leaseEnd(at, policy) } : {}),
    history: appendHistory(previous?.history ?? [], at, status, reason),
  };
}

/** Back to `queued` with the next attempt number and a new claim lease (the caller republishes). */
export function requeuedRow(
  row: BlobStatusRow,
  at: string,
  reason: string,
  scanId: string | undefined,
  policy: RowPolicy,
): BlobStatusRow {
  const next = {
    ...row,
    attempts: row.attempts + 1,
    queuedAt: at,
    finishedAt: undefined,
    postedAt: undefined,
    publishedAt: undefined,
    claimExpiresAt: leaseEnd(at, policy),
    scanId,
  };
  return movedRow(next, 'queued', at, reason);
}

export function movedRow(row: BlobStatusRow, status: BlobStatus, at: string, reason: string): BlobStatusRow {
  return { ...row, status, updatedAt: at, history: appendHistory(row.history, at, status, reason) };
}
