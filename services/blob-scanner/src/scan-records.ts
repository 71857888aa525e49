import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';

export const SCAN_COUNTERS = ['listed', 'queued', 'unchanged', 'skipped', 'lostRace', 'failed'] as const;
export type ScanCounts = Record<(typeof SCAN_COUNTERS)[number], number>;
export type ScanState = 'running' | 'completed' | 'failed';
export type ScanTrigger = 'manual' | 'schedule';

/** One scan's progress, kept in memory by the replica running it and mirrored to the status table. */
export interface ScanRecord {
  readonly scanId: string;
  readonly state: ScanState;
  readonly trigger: ScanTrigger;
  readonly container: string;
  readonly prefix?: string;
  readonly replica: string;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
  readonly counts: ScanCounts;
}

/** Kept apart from blob rows (kind 'blob', PartitionKey = encoded container) by partition and kind. */
export const SCAN_PARTITION = 'scan';
const SCAN_ID = /^scan-\d{8}T\d{6}Z-[0-9a-f]{8}$/;

/** Sortable by start time (RowKey order = chronological), unguessable enough to not collide across replicas. */
export function newScanId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `scan-${stamp}-${randomBytes(4).toString('hex')}`;
}

export function isScanId(text: string): boolean {
  return SCAN_ID.test(text);
}

export function emptyCounts(): ScanCounts {
  return { listed: 0, queued: 0, unchanged: 0, skipped: 0, lostRace: 0, failed: 0 };
}

/** `scan` rows in the status table (PartitionKey 'scan', RowKey scanId), so any replica can answer GET /scans/{id}. */
export class ScanRecordStore {
  readonly #table: TableClient;

  constructor(table: TableClient) {
    this.#table = table;
  }

  async save(record: ScanRecord): Promise<void> {
    const entity: Record<string, unknown> = {
      partitionKey: SCAN_PARTITION,
      rowKey: record.scanId,
      kind: 'scan',
      state: record.state,
      trigger: record.trigger,
      container: record.container,
      replica: record.replica,
      startedAt: record.startedAt,
      updatedAt: record.updatedAt,
      ...record.counts,
    };
    if (record.prefix !== undefined) entity.prefix = record.prefix;
    if (record.finishedAt !== undefined) entity.finishedAt = record.finishedAt;
    if (record.error !== undefined) entity.error = record.error.slice(0, 2000);
    await this.#table.upsertEntity(entity as never, 'Replace');
  }

  async get(scanId: string): Promise<ScanRecord | undefined> {
    if (!isScanId(scanId)) return undefined;
    try {
      return fromEntity(await this.#table.getEntity<Record<string, unknown>>(SCAN_PARTITION, scanId));
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }
}

function fromEntity(e: Record<string, unknown>): ScanRecord {
  const str = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : undefined);
  const counts = emptyCounts();
  for (const k of SCAN_COUNTERS) counts[k] = typeof e[k] === 'number' ? (e[k] as number) : 0;
  const state = str('state');
  const record: Record<string, unknown> = {
    scanId: str('rowKey') ?? '',
    state: state === 'completed' || state === 'failed' ? state : 'running',
    trigger: str('trigger') === 'schedule' ? 'schedule' : 'manual',
    container: str('container') ?? '',
    replica: str('replica') ?? '',
    startedAt: str('startedAt') ?? '',
    updatedAt: str('updatedAt') ?? '',
    counts,
  };
  for (const k of ['prefix', 'finishedAt', 'error'] as const) {
    const v = str(k);
    if (v !== undefined) record[k] = v;
  }
  return record as unknown as ScanRecord;
}
