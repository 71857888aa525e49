import { odata, RestError, type TableClient } from '@azure/data-tables';
import { scrubExternalText } from '../logging/redact.ts';
import { encodeRowKey } from './row-key.ts';

/** Partition of the shared status table holding one row per S3 object handled by s3-fetcher. */
export const OBJECT_STATUS_PARTITION = 's3obj';

/**
 * `fetching`: s3-fetcher has started on it (a crash leaves it so until the redelivery).
 * `staged`: every batch is written and published. `failed`: dead-lettered (a replay processes it again).
 */
export const OBJECT_STATES = ['fetching', 'staged', 'failed'] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

/** A record that could not be read, as the page shows it (position in the object, reason, an excerpt). */
export interface BadRecordSample {
  readonly position: number;
  readonly reason: string;
  readonly detail: string;
}

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
  /** The first few bad records (BAD_RECORD_SAMPLES). */
  readonly badSamples?: readonly BadRecordSample[];
  /** Deliveries s3-fetcher started on this object (1 on the first). */
  readonly attempts?: number;
  readonly fetchingAt?: string;
  readonly stagedAt?: string;
  readonly failedAt?: string;
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
  badSamples?: string;
  attempts?: number;
  fetchingAt?: string;
  stagedAt?: string;
  failedAt?: string;
  updatedAt: string;
}

// Azure Tables string properties hold at most 32 K characters.
const MAX_TEXT = 4_000;
const MAX_SAMPLES = 10;

export interface ObjectListOptions {
  readonly state?: ObjectState;
  /** Object ids (`bucket/key@version`) starting with this. */
  readonly prefix?: string;
  readonly pageSize: number;
  readonly continuationToken?: string;
}

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
      return fromEntity(e);
    } catch (err) {
      if (err instanceof RestError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  /** One page of rows, in row-key order (the page's S3 objects view). */
  async list(options: ObjectListOptions): Promise<{ rows: ObjectStatus[]; continuationToken: string | undefined }> {
    const filters = [odata`PartitionKey eq ${OBJECT_STATUS_PARTITION}`];
    if (options.state) filters.push(odata`state eq ${options.state}`);
    if (options.prefix) filters.push(odata`objectId ge ${options.prefix} and objectId lt ${options.prefix}\uffff`);
    const pages = this.#table
      .listEntities<ObjectStatusEntity>({ queryOptions: { filter: filters.join(' and ') } })
      .byPage({ maxPageSize: options.pageSize, continuationToken: options.continuationToken });
    const { value } = await pages.next();
    const page = (value ?? []) as ObjectStatusEntity[] & { continuationToken?: string };
    return { rows: page.map(fromEntity), continuationToken: page.continuationToken };
  }

  /**
   * Records that a delivery started on the object (counts the attempt); leaves a `staged` row alone, so
   * a redelivery of a finished object still reads as finished.
   */
  async markFetching(
    status: Pick<ObjectStatus, 'objectId' | 'source'>,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    const existing = await this.get(status.objectId, options);
    if (existing?.state === 'staged') return;
    const now = new Date().toISOString();
    await this.#upsert(
      {
        ...(existing ?? { batchCount: 0, recordCount: 0, badRecords: 0, droppedRecords: 0, rawBytes: 0 }),
        ...status,
        state: 'fetching',
        attempts: (existing?.attempts ?? 0) + 1,
        fetchingAt: now,
        updatedAt: now,
      },
      options,
    );
  }

  /** Records a fully staged object (after its last batch is published). */
  async markStaged(
    status: Omit<ObjectStatus, 'state' | 'updatedAt' | 'reason' | 'description' | 'stagedAt' | 'failedAt'>,
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.#upsert({ ...status, state: 'staged', stagedAt: now, updatedAt: now }, options);
  }

  /** Records a dead-lettered object for operators; never replaces a `staged` row. */
  async markFailed(
    status: Omit<ObjectStatus, 'state' | 'updatedAt' | 'stagedAt' | 'failedAt'> & {
      reason: string;
      description: string;
    },
    options: { abortSignal?: AbortSignal } = {},
  ): Promise<void> {
    const existing = await this.get(status.objectId, options);
    if (existing?.state === 'staged') return;
    const now = new Date().toISOString();
    await this.#upsert(
      {
        ...(existing?.attempts !== undefined ? { attempts: existing.attempts } : {}),
        ...(existing?.fetchingAt !== undefined ? { fetchingAt: existing.fetchingAt } : {}),
        ...status,
        state: 'failed',
        failedAt: now,
        updatedAt: now,
      },
      options,
    );
  }

  async #upsert(s: ObjectStatus, options: { abortSignal?: AbortSignal }): Promise<void> {
    const optional = <K extends keyof ObjectStatus>(k: K) => (s[k] === undefined ? {} : { [k]: s[k] });
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
      ...(s.badSamples?.length ? { badSamples: encodeSamples(s.badSamples) } : {}),
      ...optional('attempts'),
      ...optional('fetchingAt'),
      ...optional('stagedAt'),
      ...optional('failedAt'),
      updatedAt: s.updatedAt,
    } as ObjectStatusEntity;
    await this.#table.upsertEntity(entity, 'Replace', options);
  }
}

/** As many samples as fit the size limit, each detail cut to 300 characters. */
function encodeSamples(samples: readonly BadRecordSample[]): string {
  const kept: BadRecordSample[] = [];
  for (const s of samples.slice(0, MAX_SAMPLES)) {
    kept.push({ position: s.position, reason: s.reason.slice(0, 64), detail: scrubExternalText(s.detail, 300) });
    if (JSON.stringify(kept).length > MAX_TEXT) {
      kept.pop();
      break;
    }
  }
  return JSON.stringify(kept);
}

function decodeSamples(text: string | undefined): BadRecordSample[] | undefined {
  if (!text) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) return undefined;
    return parsed.flatMap((s: Partial<BadRecordSample>) =>
      typeof s?.reason === 'string' && typeof s.detail === 'string'
        ? [{ position: Number(s.position) || 0, reason: s.reason, detail: s.detail }]
        : [],
    );
  } catch {
    return undefined;
  }
}

function fromEntity(e: ObjectStatusEntity): ObjectStatus {
  const state = (OBJECT_STATES as readonly string[]).includes(e.state) ? (e.state as ObjectState) : 'failed';
  const badSamples = decodeSamples(e.badSamples);
  const optional = <K extends keyof ObjectStatusEntity>(k: K) =>
    e[k] === undefined || e[k] === null ? {} : { [k]: e[k] };
  return {
    objectId: e.objectId,
    state,
    source: e.source,
    batchCount: e.batchCount,
    recordCount: e.recordCount,
    badRecords: e.badRecords,
    droppedRecords: e.droppedRecords,
    rawBytes: e.rawBytes,
    ...optional('reason'),
    ...optional('description'),
    ...(badSamples ? { badSamples } : {}),
    ...optional('attempts'),
    ...optional('fetchingAt'),
    ...optional('stagedAt'),
    ...optional('failedAt'),
    updatedAt: e.updatedAt,
  };
}
