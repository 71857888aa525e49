// The overview's production sink figures, on Azurite with the real TableClient: la-uploader's `labatch` rows
// and the settled blob rows, counted once, then only the rows of each new interval.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TableClient, TableEntity } from '@azure/data-tables';
import { type BatchStatusRow, toBatchEntity } from '@logferry/shared/stores/batch-status';
import { type BlobStatus, toEntity } from '@logferry/shared/stores/blob-status-model';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { MAX_SINK_NAMES, OTHER, SinkTotals } from '../../src/pipeline/sink-totals.ts';
import { storageFixture } from '../support/fixtures.ts';

const T0 = '2026-01-01T00:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

function batch(id: string, stream: string, records: number, uploadedAt: string | undefined): BatchStatusRow {
  return {
    batchId: id,
    status: uploadedAt ? 'uploaded' : 'partial',
    records,
    uploadedRanges: [{ start: 0, end: uploadedAt ? records : 1 }],
    requests: 1,
    stream,
    updatedAt: uploadedAt ?? at(1),
    ...(uploadedAt ? { uploadedAt } : {}),
  };
}

function blob(container: string, name: string, table: string, status: BlobStatus, finishedAt: string) {
  return asEntity(
    toEntity({
      container,
      blobName: name,
      etag: '"e"',
      size: 10,
      status,
      attempts: 1,
      table,
      finishedAt,
      updatedAt: finishedAt,
      history: [],
    }),
  );
}

const asEntity = (entity: object) => entity as TableEntity<Record<string, unknown>>;

describe('SinkTotals on Azurite', () => {
  let azurite: AzuriteHandle;
  let table: TableClient;

  before(async () => {
    azurite = await startAzurite();
    table = (await storageFixture(azurite)).table;
  });
  after(async () => {
    await azurite?.stop();
  });

  it('counts uploaded batches per stream and settled blobs per table, then adds only each new interval', async () => {
    const totals = new SinkTotals(table);
    assert.deepEqual(totals.snapshot(), { logAnalytics: null, adx: null }, 'nothing read yet');
    await table.createEntity(toBatchEntity(batch('b1', 'Custom-A_CL', 7, at(1))));
    await table.createEntity(toBatchEntity(batch('b2', 'Custom-B_CL', 5, at(2))));
    // Half uploaded: not yet accepted as a batch; it counts once it is `uploaded`.
    await table.createEntity(toBatchEntity(batch('b3', 'Custom-A_CL', 9, undefined)));
    await table.createEntity(blob('data', 'flows.csv', 'TrafficFlows', 'succeeded', at(3)));
    await table.createEntity(blob('staging', 'Code42/b1.json', 'Code42Events', 'succeeded', at(3)));
    await table.createEntity(blob('data', 'bad.csv', 'TrafficFlows', 'failed', at(3)));
    // Finished after the first interval's end: the next advance counts it.
    await table.createEntity(toBatchEntity(batch('b4', 'Custom-B_CL', 2, at(20))));

    await totals.advance(at(10));
    assert.deepEqual(totals.snapshot(), {
      logAnalytics: [
        { stream: 'Custom-A_CL', records: 7 },
        { stream: 'Custom-B_CL', records: 5 },
      ],
      adx: [
        { table: 'Code42Events', blobs: 1 },
        { table: 'TrafficFlows', blobs: 1 },
      ],
    });

    await table.upsertEntity(toBatchEntity(batch('b3', 'Custom-A_CL', 9, at(15))), 'Replace');
    await table.upsertEntity(blob('data', 'bad.csv', 'TrafficFlows', 'succeeded', at(16)), 'Replace');
    await totals.advance(at(30));
    assert.deepEqual(totals.snapshot(), {
      logAnalytics: [
        { stream: 'Custom-A_CL', records: 16 },
        { stream: 'Custom-B_CL', records: 7 },
      ],
      adx: [
        { table: 'Code42Events', blobs: 1 },
        { table: 'TrafficFlows', blobs: 2 },
      ],
    });

    // The same interval again (a sample whose clock did not move) adds nothing.
    await totals.advance(at(30));
    assert.equal(totals.snapshot().logAnalytics?.find((s) => s.stream === 'Custom-A_CL')?.records, 16);
  });

  it('reads more rows than one page, and keeps at most MAX_SINK_NAMES names', async () => {
    const fresh = (await storageFixture(azurite)).table;
    const rows = 1_250;
    for (let i = 0; i < rows; i += 100) {
      await fresh.submitTransaction(
        Array.from({ length: Math.min(100, rows - i) }, (_, j) => {
          const n = i + j;
          const stream = n < MAX_SINK_NAMES + 10 ? `Custom-S${n}_CL` : 'Custom-S0_CL';
          return ['create', asEntity(toBatchEntity(batch(`batch-${n}`, stream, 1, at(1))))] as const;
        }),
      );
    }
    const totals = new SinkTotals(fresh);
    await totals.advance(at(10));
    const streams = totals.snapshot().logAnalytics ?? [];
    assert.equal(
      streams.reduce((sum, s) => sum + s.records, 0),
      rows,
      'every record counted across pages',
    );
    assert.equal(streams.length, MAX_SINK_NAMES + 1, 'the names past the cap summed under one entry');
    assert.equal(streams.find((s) => s.stream === OTHER)?.records, 10);
  });

  it('a failed read adds nothing and leaves its interval for the next advance', async () => {
    const fresh = (await storageFixture(azurite)).table;
    await fresh.createEntity(toBatchEntity(batch('b1', 'Custom-A_CL', 4, at(1))));
    const totals = new SinkTotals(fresh);
    await totals.advance(at(10));
    await fresh.createEntity(toBatchEntity(batch('b2', 'Custom-A_CL', 3, at(12))));
    await fresh.deleteTable();
    await assert.rejects(totals.advance(at(20)));
    assert.equal(totals.snapshot().logAnalytics?.[0]?.records, 4);
    await fresh.createTable();
    await fresh.createEntity(toBatchEntity(batch('b2', 'Custom-A_CL', 3, at(12))));
    await totals.advance(at(20));
    assert.equal(totals.snapshot().logAnalytics?.[0]?.records, 7);
  });
});
