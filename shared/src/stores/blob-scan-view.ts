import { odata, type TableClient } from '@azure/data-tables';
import { BLOB_KIND, BLOB_STATUSES, type BlobStatus, type BlobStatusRow, partitionKeyOf } from './blob-status-model.ts';

/** What a scan needs of a status row to tell whether a listed blob must be claimed. */
export type ScanView = Pick<
  BlobStatusRow,
  'etag' | 'size' | 'status' | 'attempts' | 'maxAttempts' | 'retryable' | 'publishedAt' | 'claimExpiresAt' | 'updatedAt'
>;

/** The fields a blob listing gives, as the scan compares them. */
export interface ListedBlob {
  readonly name: string;
  readonly etag: string;
  readonly size: number;
}

const SCAN_COLUMNS = [
  'blobName',
  'blobEtag',
  'size',
  'status',
  'attempts',
  'maxAttempts',
  'retryable',
  'publishedAt',
  'claimExpiresAt',
  'updatedAt',
];
// Azure Tables returns at most 1,000 entities per page.
const TABLE_PAGE = 1_000;

/**
 * The status rows of one container (under a blob name prefix), by blob name: one paged query of a few
 * columns for a whole scan, instead of one read per listed blob. Memory: one small entry per row
 * (~200 bytes plus the name) while the scan runs.
 */
export async function readScanViews(
  table: TableClient,
  container: string,
  prefix?: string,
): Promise<Map<string, ScanView>> {
  let filter = odata`kind eq ${BLOB_KIND} and PartitionKey eq ${partitionKeyOf(container)}`;
  if (prefix) filter += odata` and blobName ge ${prefix} and blobName lt ${successor(prefix)}`;
  const views = new Map<string, ScanView>();
  const pages = table.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: SCAN_COLUMNS } });
  for await (const page of pages.byPage({ maxPageSize: TABLE_PAGE })) {
    for (const e of page) {
      if (typeof e.blobName !== 'string') continue;
      const view: { -readonly [K in keyof ScanView]: ScanView[K] } = {
        etag: typeof e.blobEtag === 'string' ? e.blobEtag : '',
        size: typeof e.size === 'number' ? e.size : 0,
        status: (BLOB_STATUSES as readonly unknown[]).includes(e.status) ? (e.status as BlobStatus) : 'unknown',
        attempts: typeof e.attempts === 'number' ? e.attempts : 0,
        updatedAt: typeof e.updatedAt === 'string' ? e.updatedAt : '',
      };
      if (typeof e.maxAttempts === 'number') view.maxAttempts = e.maxAttempts;
      if (typeof e.retryable === 'boolean') view.retryable = e.retryable;
      if (typeof e.publishedAt === 'string') view.publishedAt = e.publishedAt;
      if (typeof e.claimExpiresAt === 'string') view.claimExpiresAt = e.claimExpiresAt;
      views.set(e.blobName, view);
    }
  }
  return views;
}

/**
 * True when claim() would queue the blob: no row, another version, a claim that lapsed unpublished, or a
 * retryable failure with attempts left (claim() itself decides again on the row it reads).
 */
export function claimNeeded(
  current: ScanView | undefined,
  blob: ListedBlob,
  o: { readonly defaultMaxAttempts: number; readonly claimLeaseMs: number; readonly at: string },
): boolean {
  if (!current || current.etag !== blob.etag || current.size !== blob.size) return true;
  return claimLapsed(current, o.at, o.claimLeaseMs) || isRetryable(current, o.defaultMaxAttempts);
}

/** A `queued` row whose ingest request was never published and whose claim ran out by `at`. */
export function claimLapsed(row: ScanView, at: string, claimLeaseMs: number): boolean {
  if (row.status !== 'queued' || row.publishedAt) return false;
  // Rows written before claims had leases: their last update plus the lease.
  const until = row.claimExpiresAt ?? new Date(Date.parse(row.updatedAt) + claimLeaseMs).toISOString();
  return until <= at;
}

export function isRetryable(row: ScanView | undefined, defaultMaxAttempts: number): boolean {
  if (!row || row.attempts >= (row.maxAttempts ?? defaultMaxAttempts)) return false;
  return row.status === 'unknown' || (row.status === 'failed' && row.retryable === true);
}

/** Every blob row's status in one container, by blob name (the page's counts start from it). */
export async function readStatuses(table: TableClient, container: string): Promise<Map<string, BlobStatus>> {
  const filter = odata`kind eq ${BLOB_KIND} and PartitionKey eq ${partitionKeyOf(container)}`;
  const statuses = new Map<string, BlobStatus>();
  const entities = table.listEntities<{ blobName?: unknown; status?: unknown }>({
    queryOptions: { filter, select: ['blobName', 'status'] },
  });
  for await (const page of entities.byPage({ maxPageSize: TABLE_PAGE })) {
    for (const e of page) {
      if (typeof e.blobName !== 'string') continue;
      const status = (BLOB_STATUSES as readonly unknown[]).includes(e.status) ? (e.status as BlobStatus) : 'unknown';
      statuses.set(e.blobName, status);
    }
  }
  return statuses;
}

/** The smallest string greater than every string starting with `prefix` (for range queries). */
export function successor(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1);
  return prefix.slice(0, -1) + String.fromCharCode(last + 1);
}
