import { scrubExternalText } from '../logging/redact.ts';
import { encodeRowKey } from './row-key.ts';

/** A blob's place in the ADX flow. */
export const BLOB_STATUSES = ['new', 'queued', 'ingesting', 'succeeded', 'failed', 'skipped', 'unknown'] as const;
export type BlobStatus = (typeof BLOB_STATUSES)[number];

export const FAILURE_STATUSES = ['Permanent', 'Transient', 'Exhausted'] as const;
export type FailureStatus = (typeof FAILURE_STATUSES)[number];

export interface HistoryEntry {
  /** ISO time of the transition. */
  readonly at: string;
  readonly status: BlobStatus;
  readonly reason?: string;
}

/** One blob version's status row, as the stages and the page see it. */
export interface BlobStatusRow {
  readonly container: string;
  readonly blobName: string;
  /** The blob's ETag when it was claimed (stored as `blobEtag`: `etag` is the entity's own ETag). */
  readonly etag: string;
  readonly size: number;
  readonly status: BlobStatus;
  /** Ingestion attempts for this blob version (1 after the first claim). */
  readonly attempts: number;
  readonly maxAttempts?: number;
  /** v4 UUID of the current ADX ingestion; ADX reports carry it as IngestionSourceId. */
  readonly sourceId?: string;
  readonly table?: string;
  readonly format?: string;
  readonly mapping?: string;
  /** Reason of the last failure, skip or timeout, shown on the page. */
  readonly lastError?: string;
  readonly errorCode?: string;
  readonly failureStatus?: FailureStatus;
  /** False when a failure cannot be fixed by retrying the same blob version. */
  readonly retryable?: boolean;
  readonly scanId?: string;
  readonly queuedAt?: string;
  readonly ingestingAt?: string;
  /** Set once the ADX ingestion queue accepted the request (tells a redelivery the post was done). */
  readonly postedAt?: string;
  /** Set once the ingest request for this attempt is on the bus; a `queued` row without it is only claimed. */
  readonly publishedAt?: string;
  /** The last post of this source id failed visibly (an error, not silence): it may be posted again at once. */
  readonly postFailedAt?: string;
  /** Until when the claim of a `queued`, unpublished row stands; after it, the next scan claims it again. */
  readonly claimExpiresAt?: string;
  /** Times the row was queued again after ADX stayed silent: they do not use up attempts. */
  readonly rescues?: number;
  readonly finishedAt?: string;
  readonly updatedAt: string;
  /** Last HISTORY_LIMIT transitions, oldest first. */
  readonly history: readonly HistoryEntry[];
}

/** A row plus the entity ETag it was read with, for optimistic-concurrency writes. */
export interface VersionedRow {
  readonly row: BlobStatusRow;
  readonly entityEtag: string;
}

export const HISTORY_LIMIT = 20;
// Azure Tables caps a string property at 64 KiB (32 K UTF-16 chars); these caps keep history
// (20 × ~520 chars) and lastError far below it whatever a report's Details contain.
const REASON_LIMIT = 500;
export const ERROR_LIMIT = 4000;

/** Rows of this store carry kind 'blob' so they can be listed apart from other stages' rows in the shared table. */
export const BLOB_KIND = 'blob';
/**
 * Partition of the sourceId → blob pointers. The '~' cannot occur in an encoded container name,
 * so no container's partition can collide with it.
 */
export const SOURCE_ID_PARTITION = '~sourceid';

/**
 * Failure text as a status row keeps it: it quotes dependencies (ADX `Details`, SDK errors), so it is
 * scrubbed like a log line (a SAS URL's `sig=` never reaches the table, the API or the page) and cut to `max`.
 */
export function storedText(text: string, max: number): string {
  return scrubExternalText(text, max);
}

export function appendHistory(
  history: readonly HistoryEntry[],
  at: string,
  status: BlobStatus,
  reason: string | undefined,
): HistoryEntry[] {
  const entry: HistoryEntry =
    reason === undefined ? { at, status } : { at, status, reason: storedText(reason, REASON_LIMIT) };
  return [...history, entry].slice(-HISTORY_LIMIT);
}

export function partitionKeyOf(container: string): string {
  return encodeRowKey(container);
}

export function rowKeyOf(blobName: string): string {
  return encodeRowKey(blobName);
}

const OPTIONAL_STRINGS = [
  'sourceId',
  'table',
  'format',
  'mapping',
  'lastError',
  'errorCode',
  'scanId',
  'queuedAt',
  'ingestingAt',
  'postedAt',
  'publishedAt',
  'postFailedAt',
  'claimExpiresAt',
  'finishedAt',
] as const;

export function toEntity(row: BlobStatusRow): Record<string, unknown> {
  const entity: Record<string, unknown> = {
    partitionKey: partitionKeyOf(row.container),
    rowKey: rowKeyOf(row.blobName),
    kind: BLOB_KIND,
    container: row.container,
    blobName: row.blobName,
    blobEtag: row.etag,
    size: row.size,
    status: row.status,
    attempts: row.attempts,
    updatedAt: row.updatedAt,
    history: JSON.stringify(row.history),
  };
  if (row.maxAttempts !== undefined) entity.maxAttempts = row.maxAttempts;
  if (row.failureStatus !== undefined) entity.failureStatus = row.failureStatus;
  if (row.retryable !== undefined) entity.retryable = row.retryable;
  if (row.rescues !== undefined) entity.rescues = row.rescues;
  for (const key of OPTIONAL_STRINGS) {
    const value = row[key];
    if (value !== undefined) entity[key] = key === 'lastError' ? storedText(value, ERROR_LIMIT) : value;
  }
  return entity;
}

export function fromEntity(entity: Record<string, unknown>): BlobStatusRow {
  const str = (k: string): string | undefined => (typeof entity[k] === 'string' ? (entity[k] as string) : undefined);
  const num = (k: string): number | undefined => (typeof entity[k] === 'number' ? (entity[k] as number) : undefined);
  const status = str('status');
  const failureStatus = str('failureStatus');
  const row: Record<string, unknown> = {
    container: str('container') ?? '',
    blobName: str('blobName') ?? '',
    etag: str('blobEtag') ?? '',
    size: num('size') ?? 0,
    status: (BLOB_STATUSES as readonly string[]).includes(status ?? '') ? status : 'unknown',
    attempts: num('attempts') ?? 0,
    updatedAt: str('updatedAt') ?? '',
    history: parseHistory(str('history')),
  };
  const maxAttempts = num('maxAttempts');
  if (maxAttempts !== undefined) row.maxAttempts = maxAttempts;
  if ((FAILURE_STATUSES as readonly string[]).includes(failureStatus ?? '')) row.failureStatus = failureStatus;
  if (typeof entity.retryable === 'boolean') row.retryable = entity.retryable;
  const rescues = num('rescues');
  if (rescues !== undefined) row.rescues = rescues;
  for (const key of OPTIONAL_STRINGS) {
    const value = str(key);
    // Scrubbed on the way out as well: a row written before scrubbing existed is served clean too.
    if (value !== undefined) row[key] = key === 'lastError' ? storedText(value, ERROR_LIMIT) : value;
  }
  return row as unknown as BlobStatusRow;
}

function parseHistory(text: string | undefined): HistoryEntry[] {
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return [];
    return (parsed as HistoryEntry[]).map((e) =>
      typeof e?.reason === 'string' ? { ...e, reason: storedText(e.reason, REASON_LIMIT) } : e,
    );
  } catch {
    return [];
  }
}
