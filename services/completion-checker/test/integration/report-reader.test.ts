// ReportReader on Azurite queues: reports in every SDK shape are applied; what it cannot match is logged at warn.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { QueueServiceClient } from '@azure/storage-queue';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import type { Publisher } from '@logferry/shared/transport/port';
import { pino } from 'pino';
import { ReportReader } from '../../src/report-reader.ts';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64');

describe('completion-checker ReportReader', () => {
  let azurite: AzuriteHandle;
  let store: BlobStatusStore;
  const lines: { level: number; msg: string; sourceId?: string; reason?: string }[] = [];
  const published: unknown[] = [];

  before(async () => {
    azurite = await startAzurite();
    store = new BlobStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'status', { allowInsecureConnection: true }),
    );
    await store.ensureTable();
  });
  after(() => azurite.stop());

  async function rowIngesting(name: string): Promise<string> {
    const sourceId = randomUUID();
    (await store.claim({ container: 'data', name, etag: '"0x1"', size: 10 }, 'scan', 3)).outcome;
    await store.markIngesting('data', name, { sourceId, table: 'T', format: 'csv', mapping: 'm' });
    return sourceId;
  }

  it('applies numeric-time, object-Details and ""-flag reports, warns with the source id for the rest', async () => {
    const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const success = queues.getQueueClient('success');
    const failure = queues.getQueueClient('failure');
    await Promise.all([success.create(), failure.create()]);
    const ok = await rowIngesting('ok.csv');
    const bad = await rowIngesting('bad.csv');
    const unknown = randomUUID();
    await success.sendMessage(b64({ IngestionSourceId: ok.toUpperCase(), SucceededOn: 1_767_225_600_000, Table: 'T' }));
    await failure.sendMessage(
      b64({
        IngestionSourceId: bad,
        FailedOn: 1_767_225_600,
        Details: { message: 'Stream_WrongNumberOfFields', line: 3 },
        ErrorCode: 'Stream_WrongNumberOfFields',
        FailureStatus: 1,
        OriginatesFromUpdatePolicy: '',
        ShouldRetry: 'False',
      }),
    );
    await success.sendMessage(b64({ IngestionSourceId: unknown, SucceededOn: '2026-01-01T00:00:00Z' }));
    await failure.sendMessage('not a report');
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    const publisher: Publisher = {
      publish: async (_topic, messages) => {
        published.push(...messages);
      },
    };
    const reader = new ReportReader({
      store,
      publisher,
      logger: pino({ level: 'info' }, stream),
      queues: async () => ({ success: [success], failure: [failure] }),
      batchSize: 32,
      visibilityTimeoutS: 30,
      foreignReports: 'delete',
      foreignHideS: 60,
    });
    assert.equal(await reader.pollOnce(), 4);

    assert.equal((await store.get('data', 'ok.csv'))?.status, 'succeeded');
    const failed = await store.get('data', 'bad.csv');
    assert.equal(failed?.status, 'failed');
    assert.match(
      failed?.lastError ?? '',
      /Stream_WrongNumberOfFields \(Permanent\): \{"message":"Stream_WrongNumberOfFields"/,
    );
    const warned = lines.filter((l) => l.level === 40 && l.msg === 'status report we cannot match to a blob');
    assert.deepEqual(
      warned.map((l) => [l.sourceId, l.reason]),
      [
        [unknown, 'no status row has this source id'],
        [undefined, 'not base64 JSON'],
      ],
    );
  });
});
