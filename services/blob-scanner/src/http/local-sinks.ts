import type { ServerResponse } from 'node:http';
import type { Logger } from '@logferry/shared/logging/logger';
import { z } from 'zod';
import { HttpError, sendJson } from './respond.ts';

/** What the local run's sinks hold: records per stream (Logs Ingestion stand-in), rows per table (ADX stand-in). */
export interface SinksSnapshot {
  /** null: not configured, or not readable just now (`errors.logAnalytics` says why). */
  readonly logAnalytics: readonly { stream: string; records: number }[] | null;
  readonly adx: readonly { table: string; rows: number }[] | null;
  /** Only the sinks that are configured but could not be read. */
  readonly errors?: { logAnalytics?: string; adx?: string };
}

export interface LocalSinks {
  read(): Promise<SinksSnapshot>;
}

export interface LocalSinksOptions {
  /** Base URL of the Logs Ingestion stand-in (LOCAL_SINKS_LOGS_INGESTION_URL). */
  readonly logsIngestionUrl?: string | undefined;
  /** Base URL of the ADX stand-in (LOCAL_SINKS_ADX_URL). */
  readonly adxUrl?: string | undefined;
  readonly logger: Logger;
  /** Per stand-in request; a slow stand-in shows as unavailable rather than holding the page's request. */
  readonly timeoutMs?: number;
}

// The stand-ins' own routes (standins/src/logs-ingestion/server.ts, standins/src/adx/http.ts).
const STREAMS_PATH = '/stand-in/streams';
const TABLES_PATH = '/stand-in/tables';
const MAX_ENTRIES = 1_000;
const count = z.number().int().nonnegative();
const StreamsBody = z.object({
  streams: z.array(z.object({ stream: z.string().max(1024), recordCount: count })).max(MAX_ENTRIES),
});
const TablesBody = z.object({
  tables: z.array(z.object({ table: z.string().max(1024), rows: count })).max(MAX_ENTRIES),
});

/**
 * Reads the local stand-ins' stats for the page's "Sinks (local stand-ins)" panel. Undefined when neither
 * stand-in is configured (GET /local/sinks then answers 404). Reads from several pages at once share one
 * request per stand-in.
 */
export function createLocalSinks(o: LocalSinksOptions): LocalSinks | undefined {
  if (!o.logsIngestionUrl && !o.adxUrl) return undefined;
  const timeoutMs = o.timeoutMs ?? 2_000;
  let inFlight: Promise<SinksSnapshot> | undefined;

  async function readLogAnalytics(base: string) {
    const body = StreamsBody.parse(await getJson(new URL(STREAMS_PATH, base), timeoutMs));
    return body.streams
      .map((s) => ({ stream: s.stream, records: s.recordCount }))
      .sort((a, b) => (a.stream < b.stream ? -1 : 1));
  }

  async function readAdx(base: string) {
    const body = TablesBody.parse(await getJson(new URL(TABLES_PATH, base), timeoutMs));
    return body.tables.map((t) => ({ table: t.table, rows: t.rows })).sort((a, b) => (a.table < b.table ? -1 : 1));
  }

  async function readBoth(): Promise<SinksSnapshot> {
    const [la, adx] = await Promise.allSettled([
      o.logsIngestionUrl ? readLogAnalytics(o.logsIngestionUrl) : Promise.resolve(null),
      o.adxUrl ? readAdx(o.adxUrl) : Promise.resolve(null),
    ]);
    const errors: { logAnalytics?: string; adx?: string } = {};
    if (la.status === 'rejected') errors.logAnalytics = whyUnreadable('Logs Ingestion', la.reason, timeoutMs);
    if (adx.status === 'rejected') errors.adx = whyUnreadable('ADX', adx.reason, timeoutMs);
    if (la.status === 'rejected' || adx.status === 'rejected') {
      o.logger.debug({ errors }, 'could not read a local stand-in');
    }
    return {
      logAnalytics: la.status === 'fulfilled' ? la.value : null,
      adx: adx.status === 'fulfilled' ? adx.value : null,
      ...(Object.keys(errors).length > 0 ? { errors } : {}),
    };
  }

  return {
    read() {
      inFlight ??= readBoth().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
  };
}

/** GET /local/sinks: 404 unless the local run configured at least one stand-in. */
export async function getLocalSinks(sinks: LocalSinks | undefined, res: ServerResponse): Promise<void> {
  if (!sinks) throw new HttpError(404, 'no local stand-ins configured (LOCAL_SINKS_* variables, local runs only)');
  sendJson(res, 200, await sinks.read());
}

async function getJson(url: URL, timeoutMs: number): Promise<unknown> {
  const res = await fetch(url, {
    headers: { Accept: 'application/json' },
    redirect: 'error',
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`answered HTTP ${res.status}`);
  }
  return res.json();
}

/** One line for the page: which stand-in, and why (a timeout, a refused connection, an untrusted certificate). */
function whyUnreadable(which: string, error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  let why: string;
  if (e.name === 'TimeoutError') why = `did not answer within ${timeoutMs} ms`;
  else if (e.name === 'ZodError') why = 'answered something other than its stats';
  else if (e.cause?.code) why = `could not be reached (${e.cause.code})`;
  else why = e.message ?? String(error);
  return `${which} stand-in ${why}`;
}
