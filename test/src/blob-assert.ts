// Assertions on what a user of the Blob → ADX flow checks: the rows in each table (as a multiset, so a
// lost or doubled row fails, whatever the order) and each blob's status and reason on the status API.
import assert from 'node:assert/strict';
import type { BlobStatusRow } from '@logferry/shared/stores/blob-status';
import type { CorpusBlob, Row } from './blob-corpus.ts';

/** A row as text with keys sorted at every level, so equal rows compare equal. */
export function canonicalRow(row: unknown): string {
  return JSON.stringify(sortKeys(row));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
  );
}

function multiset(rows: readonly Row[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const key = canonicalRow(r);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Every table holds exactly the expected rows: none missing, none extra, none doubled. */
export function assertTablesHoldExactly(actual: Record<string, Row[]>, expected: Record<string, readonly Row[]>): void {
  const tables = new Set([
    ...Object.keys(expected),
    ...Object.keys(actual).filter((t) => (actual[t]?.length ?? 0) > 0),
  ]);
  const problems: string[] = [];
  for (const table of [...tables].sort()) {
    const want = multiset(expected[table] ?? []);
    const have = multiset(actual[table] ?? []);
    for (const key of new Set([...want.keys(), ...have.keys()])) {
      const w = want.get(key) ?? 0;
      const h = have.get(key) ?? 0;
      if (w !== h) problems.push(`${table}: expected ${w}× got ${h}× ${key}`);
    }
  }
  assert.ok(problems.length === 0, `table contents differ (${problems.length}):\n${problems.slice(0, 20).join('\n')}`);
}

/** The status, reason and details the page shows for `blob` match what the corpus says it must become. */
export function assertBlobOutcome(row: BlobStatusRow | undefined, blob: CorpusBlob): void {
  const where = `blob ${JSON.stringify(blob.name)}`;
  assert.ok(row, `${where}: no status row`);
  const e = blob.expect;
  assert.equal(row.status, e.status, `${where}: status ${row.status} (${row.lastError ?? 'no error'})`);
  switch (e.status) {
    case 'succeeded':
      assert.equal(row.table, e.table, `${where}: target table`);
      assert.match(row.sourceId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i);
      assert.equal(row.lastError, undefined, `${where}: a succeeded blob shows no error`);
      break;
    case 'skipped':
      assert.match(row.lastError ?? '', e.reason, `${where}: skip reason`);
      break;
    case 'failed':
      assert.equal(row.errorCode, e.errorCode, `${where}: ErrorCode`);
      assert.equal(row.failureStatus, e.failureStatus, `${where}: FailureStatus`);
      assert.match(row.lastError ?? '', e.details, `${where}: Details`);
      break;
  }
}

/** The statuses a row went through, oldest first (GET /blobs/{name} history). */
export function statusTrail(row: BlobStatusRow): string[] {
  return row.history.map((h) => h.status);
}
