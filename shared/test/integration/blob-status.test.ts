import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { BlobStatusStore, HISTORY_LIMIT } from '../../src/stores/blob-status.ts';
import { type AzuriteHandle, startAzurite } from '../../src/testing/index.ts';

describe('BlobStatusStore on Azurite', () => {
  let azurite: AzuriteHandle;
  let store: BlobStatusStore;
  let table: TableClient;
  let clock = new Date('2030-01-01T00:00:00.000Z');

  before(async () => {
    azurite = await startAzurite();
    table = TableClient.fromConnectionString(azurite.connectionString, 'status', { allowInsecureConnection: true });
    store = new BlobStatusStore(table, { now: () => clock });
    await store.ensureTable();
    await store.ensureTable();
  });
  after(() => azurite.stop());

  const blob = (name: string, etag = '"0x1"', size = 10) => ({ container: 'data', name, etag, size });

  it('claims a new blob once, keeps names with spaces, + and # intact', async () => {
    const name = 'TrafficFlows-a b+c#d?.csv';
    assert.equal((await store.claim(blob(name), 'scan-1', 3)).outcome, 'claimed');
    assert.equal((await store.claim(blob(name), 'scan-2', 3)).outcome, 'unchanged');
    const row = await store.get('data', name);
    assert.equal(row?.blobName, name);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 1);
    assert.equal(row?.etag, '"0x1"');
    assert.equal(row?.scanId, 'scan-1');
    assert.deepEqual(
      row?.history.map((h) => h.status),
      ['queued'],
    );
  });

  it('two concurrent claims of the same blob: exactly one wins', async () => {
    for (const name of ['race-new.csv', 'race-changed.csv']) {
      if (name === 'race-changed.csv') {
        (await store.claim(blob(name, '"old"'), 's0', 3)).outcome;
      }
      const results = await Promise.all([
        store.claim(blob(name, '"v2"'), 's1', 3).then((c) => c.outcome),
        store.claim(blob(name, '"v2"'), 's2', 3).then((c) => c.outcome),
      ]);
      assert.deepEqual(results.filter((r) => r === 'claimed').length, 1, `${name}: ${results}`);
      assert.ok(results.includes('lost-race') || results.includes('unchanged'), `${name}: ${results}`);
    }
  });

  it("an ingester that outruns the scanner's markPublished still leaves the row marked published", async () => {
    const name = 'Json-race.json';
    const { row } = await store.claim(blob(name), 's', 3);
    assert.ok(row);
    await store.markIngesting('data', name, { sourceId: randomUUID(), table: 'T', format: 'json' });
    assert.equal((await store.markPublished(row)).applied, false, 'the row has moved on');
    const now = await store.get('data', name);
    assert.equal(now?.status, 'ingesting');
    assert.ok(now?.publishedAt, 'the ingester held the request, so it was published');
  });

  it('walks queued → ingesting → succeeded and finds the row by source id', async () => {
    const name = 'Json-1.json';
    (await store.claim(blob(name), 's', 3)).outcome;
    const sourceId = randomUUID();
    const ing = await store.markIngesting('data', name, { sourceId, table: 'T', format: 'json', mapping: 'm' });
    assert.equal(ing.applied, true);
    assert.equal((await store.markPosted('data', name, sourceId)).applied, true);
    assert.equal((await store.findBySourceId(sourceId))?.blobName, name);
    assert.equal((await store.findBySourceId(sourceId.toUpperCase()))?.blobName, name);
    assert.equal(await store.findBySourceId('not-a-uuid'), undefined);

    const stale = await store.markSucceeded('data', name, randomUUID());
    assert.equal(stale.applied, false);
    const done = await store.markSucceeded('data', name, sourceId);
    assert.equal(done.applied, true);
    const again = await store.markSucceeded('data', name, sourceId);
    assert.equal(again.applied, false, 'reprocessing a report is a no-op');
    const row = await store.get('data', name);
    assert.equal(row?.status, 'succeeded');
    assert.equal(row?.table, 'T');
    assert.ok(row?.postedAt && row.finishedAt);
    assert.deepEqual(
      row?.history.map((h) => h.status),
      ['queued', 'ingesting', 'succeeded'],
    );
    assert.equal((await store.claim(blob(name), 's', 3)).outcome, 'unchanged');
    assert.equal((await store.claim(blob(name, '"0x2"'), 's', 3)).outcome, 'claimed', 'a re-upload is claimed again');
  });

  it('a transient failure goes back to queued until attempts run out; a permanent one stays failed', async () => {
    const name = 'retry.csv';
    (await store.claim(blob(name), 's', 2)).outcome;
    const s1 = randomUUID();
    await store.markIngesting('data', name, { sourceId: s1, table: 'T', format: 'csv' });
    const r1 = await store.markFailed(
      'data',
      name,
      { reason: 'throttled', errorCode: 'General_RetryableError', failureStatus: 'Transient', retryable: true },
      { sourceId: s1 },
    );
    assert.equal(r1.applied && r1.row.status, 'queued');
    assert.equal(r1.applied && r1.row.attempts, 2);
    const s2 = randomUUID();
    await store.markIngesting('data', name, { sourceId: s2, table: 'T', format: 'csv' });
    const r2 = await store.markFailed('data', name, { reason: 'throttled', retryable: true }, { sourceId: s2 });
    assert.equal(r2.applied && r2.row.status, 'failed');
    assert.match(r2.row?.lastError ?? '', /throttled/);
    assert.equal((await store.claim(blob(name), 's', 2)).outcome, 'unchanged', 'no attempts left');

    const bad = 'bad.csv';
    (await store.claim(blob(bad), 's', 5)).outcome;
    const s3 = randomUUID();
    await store.markIngesting('data', bad, { sourceId: s3, table: 'T', format: 'csv' });
    const r3 = await store.markFailed(
      'data',
      bad,
      {
        reason: 'wrong number of fields',
        errorCode: 'Stream_WrongNumberOfFields',
        failureStatus: 'Permanent',
        retryable: false,
      },
      { sourceId: s3 },
    );
    assert.equal(r3.applied && r3.row.status, 'failed');
    assert.equal(r3.row?.errorCode, 'Stream_WrongNumberOfFields');
    assert.equal(r3.row?.failureStatus, 'Permanent');
    assert.equal((await store.claim(blob(bad), 's', 5)).outcome, 'unchanged', 'same version is not retried');
  });

  it('finds stale rows, marks them unknown and requeues them while attempts remain', async () => {
    const name = 'stale.csv';
    clock = new Date('2030-01-01T01:00:00.000Z');
    (await store.claim(blob(name), 's', 2)).outcome;
    await store.markIngesting('data', name, { sourceId: randomUUID(), table: 'T', format: 'csv' });
    clock = new Date('2030-01-01T01:10:00.000Z');
    const stale = await store.findStale({ statuses: ['queued', 'ingesting'], olderThanMs: 5 * 60_000 });
    assert.ok(stale.some((r) => r.blobName === name));
    assert.ok(
      !(await store.findStale({ statuses: ['ingesting'], olderThanMs: 20 * 60_000 })).some((r) => r.blobName === name),
    );
    const cutoff = new Date(clock.getTime() - 5 * 60_000).toISOString();
    const u = await store.markUnknown('data', name, 'no report within 5 min', { olderThan: cutoff });
    assert.equal(u.applied && u.row.status, 'unknown');
    const q = await store.requeue('data', name, 'timeout retry');
    assert.equal(q.applied && q.row.status, 'queued');
    assert.equal(q.row?.attempts, 2);
    const counts = await store.countsByStatus();
    assert.ok(counts.queued >= 1);
  });

  it('skips, lists by status and prefix with paging, and bounds history', async () => {
    assert.equal(await store.recordSkipped(blob('empty.csv', '"e"', 0), 's', 'empty blob (0 bytes)'), 'claimed');
    assert.equal(await store.recordSkipped(blob('empty.csv', '"e"', 0), 's', 'empty blob (0 bytes)'), 'unchanged');
    assert.equal((await store.get('data', 'empty.csv'))?.lastError, 'empty blob (0 bytes)');
    (await store.claim(blob('NoMap-x.txt'), 's', 3)).outcome;
    const sk = await store.markSkipped('data', 'NoMap-x.txt', 'NoMapping: no entry for prefix NoMap');
    assert.equal(sk.applied && sk.row.status, 'skipped');

    for (let i = 0; i < 5; i++) (await store.claim(blob(`page/${i}.csv`), 's', 3)).outcome;
    const first = await store.list({ prefix: 'page/', pageSize: 3 });
    assert.equal(first.rows.length, 3);
    assert.ok(first.continuationToken);
    const second = await store.list({ prefix: 'page/', pageSize: 3, continuationToken: first.continuationToken });
    assert.deepEqual(
      [...first.rows, ...second.rows].map((r) => r.blobName),
      ['page/0.csv', 'page/1.csv', 'page/2.csv', 'page/3.csv', 'page/4.csv'],
    );
    const skipped = await store.list({ status: 'skipped', pageSize: 100, container: 'data' });
    assert.deepEqual(skipped.rows.map((r) => r.blobName).sort(), ['NoMap-x.txt', 'empty.csv']);

    const name = 'flappy.csv';
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) (await store.claim(blob(name, `"${i}"`), 's', 3)).outcome;
    const row = await store.get('data', name);
    assert.equal(row?.history.length, HISTORY_LIMIT);
  });
});
