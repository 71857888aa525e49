import { odata, type TableClient } from '@azure/data-tables';
import { LABATCH_PARTITION } from '@logferry/shared/stores/batch-status';
import { BLOB_KIND } from '@logferry/shared/stores/blob-status-model';

/** What reached the sinks, as the pipeline's own rows record it (production figures, no stand-in needed). */
export interface SinkTotalsSnapshot {
  /** Records of the batches la-uploader marked `uploaded`, per Logs Ingestion stream; null before the first read. */
  readonly logAnalytics: readonly { stream: string; records: number }[] | null;
  /** Blobs whose ADX ingestion succeeded (completion-checker settled them), per table; null before the first read. */
  readonly adx: readonly { table: string; blobs: number }[] | null;
}

/** Rows per page of a read; only two columns are selected, so a page stays small. */
const PAGE_SIZE = 1_000;
/** Names kept apart at most; more (a misconfiguration) are summed under OTHER so memory stays bounded. */
export const MAX_SINK_NAMES = 200;
export const OTHER = '(other)';

/**
 * Totals per stream and per table, kept incrementally: the first read pages once through the rows finished
 * before the first interval's end; after that each advance reads only the rows whose completion time falls in
 * the new interval [countedUntil, until), so its cost follows the rate, not the table's size. Only the sums
 * are kept (one map entry per stream or table). A failed read leaves the interval open for the next advance,
 * and nothing of it is added, so no row is counted twice or skipped.
 */
export class SinkTotals {
  readonly #table: TableClient;
  readonly #records = new Map<string, number>();
  readonly #blobs = new Map<string, number>();
  #countedUntil: string | undefined;

  constructor(table: TableClient) {
    this.#table = table;
  }

  /** Adds what finished since the last advance and before `until` (ISO). */
  async advance(until: string): Promise<void> {
    const since = this.#countedUntil;
    if (since !== undefined && since >= until) return;
    const between = (field: string) =>
      since === undefined
        ? `${field} lt ${quote(until)}`
        : `${field} ge ${quote(since)} and ${field} lt ${quote(until)}`;
    const [records, blobs] = await Promise.all([
      sumRows(
        this.#table,
        `${odata`PartitionKey eq ${LABATCH_PARTITION} and status eq ${'uploaded'}`} and ${between('uploadedAt')}`,
        'stream',
        'records',
      ),
      sumRows(
        this.#table,
        `${odata`kind eq ${BLOB_KIND} and status eq ${'succeeded'}`} and ${between('finishedAt')}`,
        'table',
        undefined,
      ),
    ]);
    addInto(this.#records, records);
    addInto(this.#blobs, blobs);
    this.#countedUntil = until;
  }

  snapshot(): SinkTotalsSnapshot {
    if (this.#countedUntil === undefined) return { logAnalytics: null, adx: null };
    return {
      logAnalytics: sorted(this.#records).map(([stream, records]) => ({ stream, records })),
      adx: sorted(this.#blobs).map(([table, blobs]) => ({ table, blobs })),
    };
  }
}

/** Sums `amount` (or counts rows, without one) per `by`, page by page; only the sums stay in memory. */
async function sumRows(
  table: TableClient,
  filter: string,
  by: string,
  amount: string | undefined,
): Promise<Map<string, number>> {
  const sums = new Map<string, number>();
  const select = amount === undefined ? [by] : [by, amount];
  const pages = table
    .listEntities<Record<string, unknown>>({ queryOptions: { filter, select } })
    .byPage({ maxPageSize: PAGE_SIZE });
  for await (const page of pages) {
    for (const entity of page) {
      const value = amount === undefined ? 1 : Number(entity[amount] ?? 0);
      if (!Number.isFinite(value) || value < 0) continue;
      const named = typeof entity[by] === 'string' && entity[by] !== '' ? (entity[by] as string) : OTHER;
      const name = sums.has(named) || sums.size < MAX_SINK_NAMES ? named : OTHER;
      sums.set(name, (sums.get(name) ?? 0) + value);
    }
  }
  return sums;
}

function addInto(totals: Map<string, number>, delta: Map<string, number>): void {
  for (const [name, value] of delta) {
    const key = totals.has(name) || totals.size < MAX_SINK_NAMES ? name : OTHER;
    totals.set(key, (totals.get(key) ?? 0) + value);
  }
}

const sorted = (totals: Map<string, number>) => [...totals].sort(([a], [b]) => (a < b ? -1 : 1));
const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;
