import { RestError, type TableClient } from '@azure/data-tables';
import { scrubExternalText } from '../logging/redact.ts';
import { encodeRowKey } from './row-key.ts';

/** Partition of the shared status table holding one row per S3 object handled by s3-fetcher. */
export const OBJECT_STATUS_PARTITION = 's3obj';

/** `staged`: every batch is written and published. `failed`: dead-lettered (a replay processes it again). */
export type ObjectState = 'staged' | 'failed';

export interface ObjectStatus {
  readonly objectId: string;
  readonly state: ObjectState;
  readonly source: string;
  readonly batchCount: number;
  readonly recordCount: number;
  /** Lines/elements/rows that could not be read, and records dropped (too large). */
  readonly badRecords: number;
  readonly droppedRecords: number;
  /** Uncompressed NDJSON bytes staged. */
  readonly rawBytes: number;
  readonly reason?: string;
  readonly description?: string;
  readonly updatedAt: string;
}

interface ObjectStatusEntity {
  partitionKey: string;
  rowKey: string;
  objectId: string;
  state: string;
  source: string;
  batchCount: number;
  recordCount: number;
  badRecords: number;
  droppedRecords: number;
  rawBytes: number;
  reason?: string;
  description?: string;
  updatedAt: string;
}

// Azure Tables string properties hold at most 32 K characters.
const MAX_TEXT = 4_000;

/** The `s3obj` rows: what s3-fetcher finished, so a redelivered object is not staged twice. */
export class ObjectStatusStore {
  readonly #table: TableClient;

  constructor(table: TableClient) {
    this.#table = table;
  }

  /** Creates the table if missing (idempotent; call once at start). */
  async ensureTable(): Promise<void> {
    try {
      await this.#table.createTable();
    } catch (err) {
      if (!(err instanceof RestError && err.statusCode === 409)) throw err;
    }
  }

  async get(objectId: string, options: { abortSignal?: AbortSignal } = {}): Promise<ObjectStatus | undefined> {
    try {
      const e = await this.#table.getEntity<ObjectStatusEntity>(
        OBJECT_STATUS_PARTITION,
        encodeRowKey(objectId),
        options,
      );
      return {
        objectId: e.objectId,
        state: e.state === 'staged' ? 'staged' : 'failed',
        source: e.source,
        batchCount: e.batchCount,
        recordCount: e.recordCount,
        badRecords: e.badRecords,
        droppedRecords: e.droppedRecords,
        rawBytes: e.rawBytes,
        ...(e.reason !== undefined ? { reason: e.reason } : {}),
        ...(e.description !== undefined ? { description: e.description } : {}),
        updatedAt: e.updatedAt,
      };
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /** Records a fully staged object (after its last batch is published). */
  async markStaged(
    status: Omit<ObjectStatus, 'state' | 'updatedAt' | 'reason' | 'description'>,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    await this.#upsert({ ...status, state: 'staged', updatedAt: new Date().toISOString() }, options);
  }

  /** Records a dead-lettered object for operators; never replaces a `staged` row. */
  async markFailed(
    status: Omit<ObjectStatus, 'state' | 'updatedAt'> & { reason: string; description: string },
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    const existing = await this.get(status.objectId, options);
    if (existing?.state === 'staged') return;
    await this.#upsert({ ...status, state: 'failed', updatedAt: new Date().toISOString() }, options);
  }

  async #upsert(s: ObjectStatus, options: { abortSignal?: AbortSignal }): Promise<void> {
    const entity: ObjectStatusEntity = {
      partitionKey: OBJECT_STATUS_PARTITION,
      rowKey: encodeRowKey(s.objectId),
      objectId: s.objectId.slice(0, MAX_TEXT),
      state: s.state,
      source: s.source,
      batchCount: s.batchCount,
      recordCount: s.recordCount,
      badRecords: s.badRecords,
      droppedRecords: s.droppedRecords,
      rawBytes: s.rawBytes,
      ...(s.reason !== undefined ? { reason: scrubExternalText(s.reason, 256) } : {}),
      // A dead-letter description quotes S3 and Blob errors: scrubbed before it is stored.
      ...(s.description !== undefined ? { description: scrubExternalText(s.description, MAX_TEXT) } : {}),
      updatedAt: s.updatedAt,
    };
    await this.#table.upsertEntity(entity, 'Replace', options);
  }
}
