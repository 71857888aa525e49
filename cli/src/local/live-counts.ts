import type { LocalStack } from '@logferry/standins';

export interface LiveCounts {
  readonly records: number;
  readonly adxRows: Record<string, number>;
  readonly blobs: Record<string, number> | undefined;
  readonly deadLetters: number;
}

/** What the live line shows, read the way a user would: the stand-ins' stores and the status API. */
export async function readLiveCounts(
  stack: LocalStack,
  topology: readonly (readonly [string, string])[],
): Promise<LiveCounts> {
  const tables = stack.adx.tables();
  const adxRows = Object.fromEntries(Object.entries(tables).map(([t, rows]) => [t, rows.length]));
  let blobs: Record<string, number> | undefined;
  try {
    const res = await fetch(new URL('counts', stack.endpoints.statusPageUrl), { signal: AbortSignal.timeout(2_000) });
    if (res.ok) blobs = ((await res.json()) as { counts: Record<string, number> }).counts;
  } catch {
    blobs = undefined;
  }
  let deadLetters = 0;
  for (const [topic, sub] of topology) deadLetters += stack.serviceBus.counts(topic, sub).deadLetter;
  return {
    records: stack.logsIngestion.stats(stack.endpoints.dcrStream).recordCount,
    adxRows,
    blobs,
    deadLetters,
  };
}

export function formatLiveCounts(c: LiveCounts, now = new Date()): string {
  const rows = Object.entries(c.adxRows)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  const blobs = c.blobs
    ? Object.entries(c.blobs)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${s} ${n}`)
        .join(', ') || 'none yet'
    : 'status API not answering';
  return `[${now.toISOString().slice(11, 19)}] Log Analytics records ${c.records} · ADX rows ${rows || 'none'} · blobs ${blobs} · dead-lettered ${c.deadLetters}`;
}
