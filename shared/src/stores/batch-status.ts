import { odata, RestError, type TableClient } from '@azure/data-tables';
import { encodeRowKey } from './row-key.ts';

/** Partition of the shared status table holding one row per staged batch uploaded to Log Analytics. */
export const LABATCH_PARTITION = 'labatch';

export type BatchUploadStatus = 'partial' | 'uploaded';

/** A half-open range [start, end) of record indexes within a staged batch. */
export interface RecordRange {
  readonly start: number;
  readonly end: number;
}

export interface BatchStatusRow {
  readonly batchId: string;
  /** `uploaded`: every record reached the sink. `partial`: only `uploadedRanges` did (a retry resumes). */
  readonly status: BatchUploadStatus;
  readonly records: number;
  readonly uploadedRanges: readonly RecordRange[];
  readonly requests: number;
  readonly stream: string;
  readonly objectId?: string;
  readonly blobName?: string;
  readonly updatedAt: string;
  readonly uploadedAt?: string;
}

export interface BatchStatusEntity {
  partitionKey: string;
  rowKey: string;
  batchId: string;
  status: string;
  records: number;
  uploadedRanges: string;
  requests: number;
  stream: string;
  objectId?: string;
  blobName?: string;
  updatedAt: string;
  uploadedAt?: string;
}

/** Row key of a batch: ids are derived from S3 keys and may hold characters Azure Tables refuses. */
export function batchRowKey(batchId: string): string {
  return encodeRowKey(batchId);
}

/** `0-500,700-900`: compact enough for the 64 KiB string property limit even after many 413 splits. */
export function formatRanges(ranges: readonly RecordRange[]): string {
  return ranges.map((r) => `${r.start}-${r.end}`).join(',');
}

export function parseRanges(text: string | undefined): RecordRange[] {
  if (!text) return [];
  return text.split(',').flatMap((part) => {
    const m = /^(\d+)-(\d+)$/.exec(part.trim());
    return m ? [{ start: Number(m[1]), end: Number(m[2]) }] : [];
  });
}

/** Sorted, merged ranges, so the row stays small however the batch was split. */
export function mergeRanges(ranges: readonly RecordRange[]): RecordRange[] {
  const sorted = [...ranges].filter((r) => r.end > r.start).sort((a, b) => a.start - b.start);
  const out: RecordRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && r.start <= last.end) out[out.length - 1] = { start: last.start, end: Math.max(last.end, r.end) };
    else out.push({ ...r });
  }
  return out;
}

/**
 * `labatch` rows of the status table: which staged batches reached Log Analytics, so a redelivered
 * message is skipped and a half-uploaded batch resumes where it stopped. The API does not deduplicate,
 * so these rows are what keeps redeliveries from doubling records. la-uploader writes them through
 * BatchClaims (batch-claim.ts), which also makes the row the claim on its batch; this store reads them.
 */
export class BatchStatusStore {
  readonly #table: TableClient;

  constructor(tableClient: TableClient) {
    this.#table = tableClient;
  }

  /** Creates the table if it does not exist (idempotent; other stages share it). */
  async ensureTable(): Promise<void> {
    try {
      await this.#table.createTable();
    } catch (err) {
      if (!(err instanceof RestError && err.statusCode === 409)) throw err;
    }
  }

  async get(batchId: string): Promise<BatchStatusRow | undefined> {
    try {
      const e = await this.#table.getEntity<BatchStatusEntity>(LABATCH_PARTITION, batchRowKey(batchId));
      return fromEntity(e);
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /** The batch rows of these objects (the page's S3 objects view), read in a few OR-filtered queries. */
  async listForObjects(objectIds: readonly string[]): Promise<BatchStatusRow[]> {
    const out: BatchStatusRow[] = [];
    const unique = [...new Set(objectIds)];
    for (let i = 0; i < unique.length; i += 15) {
      const ids = unique.slice(i, i + 15).map((id) => odata`objectId eq ${id}`);
      const filter = `${odata`PartitionKey eq ${LABATCH_PARTITION}`} and (${ids.join(' or ')})`;
      for await (const e of this.#table.listEntities<BatchStatusEntity>({ queryOptions: { filter } })) {
        out.push(fromEntity(e));
      }
    }
    return out;
  }
}

/** The `labatch` entity of a row (without the claim fields, which batch-claim.ts adds while a delivery works). */
export function toBatchEntity(row: BatchStatusRow): BatchStatusEntity {
  return {
    partitionKey: LABATCH_PARTITION,
    rowKey: batchRowKey(row.batchId),
    batchId: row.batchId,
    status: row.status,
    records: row.records,
    uploadedRanges: formatRanges(mergeRanges(row.uploadedRanges)),
    requests: row.requests,
    stream: row.stream,
    updatedAt: row.updatedAt,
    ...(row.objectId === undefined ? {} : { objectId: row.objectId }),
    ...(row.blobName === undefined ? {} : { blobName: row.blobName }),
    ...(row.uploadedAt === undefined ? {} : { uploadedAt: row.uploadedAt }),
  };
}

export function fromEntity(e: BatchStatusEntity): BatchStatusRow {
  return {
    batchId: e.batchId,
    status: e.status === 'uploaded' ? 'uploaded' : 'partial',
    records: Number(e.records ?? 0),
    uploadedRanges: parseRanges(e.uploadedRanges),
    requests: Number(e.requests ?? 0),
    stream: e.stream ?? '',
    updatedAt: e.updatedAt,
    ...(e.objectId === undefined ? {} : { objectId: e.objectId }),
    ...(e.blobName === undefined ? {} : { blobName: e.blobName }),
    ...(e.uploadedAt === undefined ? {} : { uploadedAt: e.uploadedAt }),
  };
}
