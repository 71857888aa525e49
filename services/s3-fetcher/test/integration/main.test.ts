import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import type { S3ObjectMessage, StagedBatchMessage } from '@logferry/shared';
import { createLogger } from '@logferry/shared/logging/logger';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import {
  type AzuriteHandle,
  type FauxqsHandle,
  stagedRecords,
  startAzurite,
  startFauxqsServer,
} from '@logferry/shared/testing';
import { outcome, type Subscription, type Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import {
  type ServiceBusStandIn,
  type ServiceProcess,
  startServiceBusStandIn,
  startServiceProcess,
} from '@logferry/standins';
import { code42Event, gzipNdjson, multiset, type Rec, withoutEnrichment } from './corpus.ts';

const BUCKET = 'code42-events';

function announce(key: string, bucket = BUCKET, etag?: string): S3ObjectMessage {
  return {
    type: 's3-object',
    schemaVersion: 1,
    id: `m-${bucket}-${key}`,
    producer: 'sqs-poller',
    time: new Date().toISOString(),
    bucket,
    key,
    ...(etag ? { etag } : {}),
    origin: 'sns',
  };
}

describe('s3-fetcher as a process', () => {
  let fauxqs: FauxqsHandle;
  let azurite: AzuriteHandle;
  let bus: ServiceBusStandIn;
  let transport: Transport;
  let downstream: Subscription | undefined;
  let service: ServiceProcess | undefined;

  before(async () => {
    [fauxqs, azurite, bus] = await Promise.all([
      startFauxqsServer(),
      startAzurite(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 'sqs-poller',
    });
  });
  after(async () => {
    await service?.kill();
    await downstream?.stop(1_000);
    await transport.close();
    await Promise.all([bus.close(), fauxqs.stop(), azurite.stop()]);
  });

  it('stages announced objects, dead-letters the unreadable and the refused, and exits 0 on SIGTERM', async () => {
    const s3 = fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const records: Rec[] = Array.from({ length: 3_000 }, (_, i) => code42Event(i));
    const put = await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'incydr/2024/events 1+ü.json.gz', Body: gzipNdjson(records) }),
    );

    const proc = await startServiceProcess(
      's3-fetcher',
      {
        ...fauxqs.env(),
        S3_ALLOWED_BUCKETS: BUCKET,
        SERVICEBUS_CONNECTION_STRING: bus.connectionString,
        AzureStorage: azurite.connectionString,
        PARALLEL_S3_OPERATIONS: '2',
        MAX_BATCH_BYTES: '200000',
        SHUTDOWN_GRACE_MS: '5000',
        RETRY_BASE_MS: '50',
        RETRY_MAX_MS: '200',
        LOG_LEVEL: 'info',
      },
      { logDir: await mkdtemp(join(tmpdir(), 's3-fetcher-logs-')) },
    );
    service = proc;

    const batches: StagedBatchMessage[] = [];
    downstream = transport.subscribe({
      topic: 'staged-batches',
      subscription: 'adx-ingester',
      concurrency: 4,
      maxAttempts: 3,
      backoff: { baseMs: 50, maxMs: 200 },
      maxLockRenewalMs: 10_000,
      handler: async (d) => {
        batches.push(d.body);
        return outcome.success();
      },
    });

    const good = announce('incydr/2024/events 1+ü.json.gz', BUCKET, put.ETag?.replaceAll('"', ''));
    await transport.publish('s3-objects', [
      good,
      announce('incydr/2024/never-uploaded.json.gz'),
      announce('anything.json', 'someone-elses-bucket'),
    ]);
    await bus
      .waitFor(() => bus.counts('s3-objects', 's3-fetcher').deadLetter === 2, 30_000)
      .catch(() => {
        assert.fail(`expected two dead letters\n${proc.output().slice(-3000)}`);
      });
    await bus.waitFor(() => batches.some((b) => b.lastBatch), 30_000);
    await bus.waitFor(() => {
      const c = bus.counts('s3-objects', 's3-fetcher');
      return c.active === 0 && c.locked === 0 && c.scheduled === 0;
    }, 15_000);

    const reasons = bus
      .deadLetters('s3-objects', 's3-fetcher')
      .map((d) => d.reason)
      .sort();
    assert.deepEqual(reasons, ['ForbiddenReference', 'ObjectNotFound']);

    batches.sort((a, b) => a.batchIndex - b.batchIndex);
    assert.ok(batches.length > 3, `${batches.length} batches`);
    assert.deepEqual(
      batches.map((b) => b.batchIndex),
      batches.map((_, i) => i),
    );
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    const staged: Rec[] = [];
    for (const b of batches) {
      for (const r of await stagedRecords(container, b)) staged.push(r as Rec);
    }
    assert.deepEqual(multiset(staged.map(withoutEnrichment)), multiset(records));

    const status = new ObjectStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    );
    const row = await status.get(batches[0]!.objectId);
    assert.equal(row?.state, 'staged');
    assert.equal(row?.recordCount, records.length);

    assert.equal(await proc.stop(), 0, proc.output().slice(-3000));
    assert.match(proc.output(), /"msg":"object staged"/);
  });
});
