import { odata, type TableClient } from '@azure/data-tables';
import { LABATCH_PARTITION } from '@logferry/shared/stores/batch-status';
import { BLOB_KIND } from '@logferry/shared/stores/blob-status-model';
import { OBJECT_STATUS_PARTITION } from '@logferry/shared/stores/object-status';

/** Rows read per query at most: a burst beyond it shows as this many (the chart says "at least"). */
export const THROUGHPUT_CAP = 5_000;

/**
 * Work each stage finished in [since, until), counted from the completion time it writes to the status table:
 * s3-fetcher's object rows (staged or dead-lettered), la-uploader's batch rows, the blob rows' postedAt (adx-ingester) and finishedAt
 * (completion-checker's results). Only the rows of the interval are read (filters on those times), so the cost
 * follows the rate, not the table's size.
 */
export async function readThroughput(
  table: TableClient,
  dataContainer: string,
  since: string,
  until: string,
): Promise<Record<string, number>> {
  const between = (field: string) => `${field} ge ${quote(since)} and ${field} lt ${quote(until)}`;
  const [objects, batches, posted, results] = await Promise.all([
    countRows(
      table,
      `${odata`PartitionKey eq ${OBJECT_STATUS_PARTITION}`} and ${between('updatedAt')}`,
      'PartitionKey',
    ),
    countRows(table, `${odata`PartitionKey eq ${LABATCH_PARTITION}`} and ${between('uploadedAt')}`, 'PartitionKey'),
    countRows(table, `${odata`kind eq ${BLOB_KIND}`} and ${between('postedAt')}`, 'container'),
    countRows(
      table,
      `${odata`kind eq ${BLOB_KIND} and container eq ${dataContainer}`} and ${between('finishedAt')}`,
      'container',
    ),
  ]);
  const postedData = posted.get(dataContainer) ?? 0;
  const postedTotal = [...posted.values()].reduce((a, b) => a + b, 0);
  return {
    's3-objects/s3-fetcher': sum(objects),
    'staged-batches/la-uploader': sum(batches),
    'staged-batches/adx-ingester': postedTotal - postedData,
    'ingest-requests/adx-ingester': postedData,
    'ingestion-results/blob-scanner': sum(results),
  };
}

async function countRows(table: TableClient, filter: string, by: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let n = 0;
  for await (const e of table.listEntities<Record<string, unknown>>({ queryOptions: { filter, select: [by] } })) {
    const key = String(e[by] ?? '');
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (++n >= THROUGHPUT_CAP) break;
  }
  return counts;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
