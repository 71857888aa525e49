import { odata, type TableClient } from '@azure/data-tables';
import { getEntityOrUndefined, readRow } from './blob-row-transition.ts';
import { successor } from './blob-scan-view.ts';
import {
  BLOB_KIND,
  BLOB_STATUSES,
  type BlobStatus,
  type BlobStatusRow,
  fromEntity,
  partitionKeyOf,
  SOURCE_ID_PARTITION,
} from './blob-status-model.ts';

// Reads of the status table that move no row: the sourceId → row pointers, listings, counts, stale rows.

export interface ListOptions {
  readonly container?: string;
  readonly status?: BlobStatus;
  /** Blob name prefix. */
  readonly prefix?: string;
  readonly pageSize: number;
  readonly continuationToken?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Upserts the sourceId → blob pointer (PartitionKey '~sourceid', RowKey = sourceId). */
export async function writeSourcePointer(
  table: TableClient,
  sourceId: string,
  container: string,
  name: string,
): Promise<void> {
  if (!UUID.test(sourceId)) throw new Error(`sourceId is not a UUID: ${JSON.stringify(sourceId)}`);
  await table.upsertEntity(
    { partitionKey: SOURCE_ID_PARTITION, rowKey: sourceId.toLowerCase(), kind: 'sourceid', container, blobName: name },
    'Replace',
  );
}

/** The row an ingestion source id belongs to (the row's own sourceId may be newer). */
export async function findBySourceId(table: TableClient, sourceId: string): Promise<BlobStatusRow | undefined> {
  if (!UUID.test(sourceId)) return undefined;
  const pointer = await getEntityOrUndefined(table, SOURCE_ID_PARTITION, sourceId.toLowerCase());
  if (!pointer || typeof pointer.container !== 'string' || typeof pointer.blobName !== 'string') return undefined;
  return (await readRow(table, pointer.container, pointer.blobName))?.row;
}

export async function listRows(
  table: TableClient,
  options: ListOptions,
): Promise<{ rows: BlobStatusRow[]; continuationToken: string | undefined }> {
  const filters = blobRowFilters(options.container);
  if (options.status !== undefined) filters.push(odata`status eq ${options.status}`);
  if (options.prefix) filters.push(odata`blobName ge ${options.prefix} and blobName lt ${successor(options.prefix)}`);
  const pages = table
    .listEntities({ queryOptions: { filter: filters.join(' and ') } })
    .byPage({ maxPageSize: options.pageSize, continuationToken: options.continuationToken });
  const { value } = await pages.next();
  const page = (value ?? []) as unknown as Record<string, unknown>[] & { continuationToken?: string };
  return { rows: page.map(fromEntity), continuationToken: page.continuationToken };
}

/** Counts per status (reads the status column of every blob row; fine for status pages, not hot paths). */
export async function countRowsByStatus(
  table: TableClient,
  options: { container?: string },
): Promise<Record<BlobStatus, number>> {
  const counts = Object.fromEntries(BLOB_STATUSES.map((status) => [status, 0])) as Record<BlobStatus, number>;
  const filters = blobRowFilters(options.container);
  const entities = table.listEntities<{ status?: string }>({
    queryOptions: { filter: filters.join(' and '), select: ['status'] },
  });
  for await (const entity of entities) {
    const status = entity.status as BlobStatus;
    if (status in counts) counts[status] += 1;
  }
  return counts;
}

/** Rows in the given statuses last updated before `cutoff` (ISO), at most `limit`. */
export async function findStaleRows(
  table: TableClient,
  options: { statuses: readonly BlobStatus[]; cutoff: string; limit?: number },
): Promise<BlobStatusRow[]> {
  const statusFilter = options.statuses.map((status) => odata`status eq ${status}`).join(' or ');
  const filter = `${odata`kind eq ${BLOB_KIND} and updatedAt lt ${options.cutoff}`} and (${statusFilter || 'false'})`;
  const rows: BlobStatusRow[] = [];
  for await (const entity of table.listEntities({ queryOptions: { filter } })) {
    rows.push(fromEntity(entity as Record<string, unknown>));
    if (rows.length >= (options.limit ?? 1000)) break;
  }
  return rows;
}

/** Blob rows only (the table holds other stages' rows too), of one container when given. */
function blobRowFilters(container: string | undefined): string[] {
  const filters = [odata`kind eq ${BLOB_KIND}`];
  if (container !== undefined) filters.push(odata`PartitionKey eq ${partitionKeyOf(container)}`);
  return filters;
}
