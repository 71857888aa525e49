// What the tests against a running `run all --local` stack read it by: the stand-ins' HTTPS and ADX answers,
// the DLQ listing, and waits against one deadline.
import { request } from 'node:https';
import { type WaitOptions, waitUntil } from '@logferry/shared/testing';
import type { LocalEndpoints } from '@logferry/standins';

export interface StreamPage {
  recordCount: number;
  records: Record<string, unknown>[];
}

export function httpsJson(url: string, ca: string, method = 'GET', body?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => {
        text += String(d);
      });
      res.on('end', () => {
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`${method} ${url}: HTTP ${res.statusCode} ${text}`));
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(err);
        }
      });
    }).on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

/** Waits against the test's one deadline (probes that throw are "not yet": the stack is still starting). */
export const byDeadline = (deadline: number): WaitOptions => ({
  timeoutMs: Math.max(0, deadline - Date.now()),
  intervalMs: 500,
  retryErrors: true,
});

/** Rows in an ADX stand-in table, by a `count` query. */
export async function adxCount(endpoints: LocalEndpoints, table: string): Promise<number> {
  const res = await fetch(`${endpoints.adxEndpoint}/v1/rest/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ db: endpoints.kustoDatabase, csl: `${table} | count` }),
  });
  if (!res.ok) throw new Error(`ADX query ${table}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { Tables: { Rows: number[][] }[] };
  return Number(body.Tables[0]?.Rows[0]?.[0]);
}

/** Waits until every table holds exactly `rows` (more fails at once: nothing may arrive twice). */
export async function waitForAdxRows(
  endpoints: LocalEndpoints,
  tables: readonly string[],
  rows: number,
  deadline: number,
): Promise<void> {
  for (const table of tables) {
    await waitUntil(
      `${rows} rows in ADX table ${table}`,
      async () => {
        const n = await adxCount(endpoints, table);
        if (n > rows) throw new Error(`${table} holds ${n} rows, more than seeded`);
        return n === rows ? n : undefined;
      },
      byDeadline(deadline),
    );
  }
}

/** The dead-letter count `logferry dlq list` prints for `ref`, if it lists it. */
export function dlqCount(listing: string, ref: string): number | undefined {
  const m = new RegExp(`^${ref}\\s+(\\d+)\\s`, 'm').exec(listing);
  return m ? Number(m[1]) : undefined;
}
