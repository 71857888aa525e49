import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createS3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { createLogger } from '@logferry/shared/logging/logger';
import type { MessageOf, S3ObjectMessage, TopicName } from '@logferry/shared/messages/index';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { reasonCode, type StageMetrics } from '@logferry/shared/telemetry/metrics';
import { type AzuriteHandle, type FauxqsHandle, startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import type { Delivery, Publisher } from '@logferry/shared/transport/port';
import { createFetchObjectHandler, type FetcherSettings } from '../../src/fetch-object.ts';
import { code42Event, gzipNdjson } from './corpus.ts';

const BUCKET = 'metrics-logs';
const SETTINGS: FetcherSettings = {
  maxDecompressedBytes: 1024 ** 3,
  maxBatchBytes: 950_000,
  maxBatchRecords: 5_000,
  timeField: undefined,
  gzipLevel: 1,
  uploadConcurrency: 3,
  publishGroupSize: 10,
  badRecordSamples: 5,
  sourceName: 'Code42',
  sourceFromKeyPrefix: false,
};

/** What the handler reports, with each failure reason as the metric exports it. */
function recordingMetrics() {
  const seen = { records: 0, bytes: 0, duplicates: 0, failures: [] as string[] };
  const metrics: StageMetrics = {
    records: (n) => {
      seen.records += n;
    },
    bytes: (n) => {
      seen.bytes += n;
    },
    failure: (reason) => {
      seen.failures.push(reasonCode(reason));
    },
    duplicate: (n = 1) => {
      seen.duplicates += n;
    },
  };
  return { seen, metrics };
}

class Publishes implements Publisher {
  count = 0;
  fail = false;
  async publish<T extends TopicName>(_topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    if (this.fail) throw new Error('broker unavailable');
    this.count += messages.length;
  }
}

function delivery(body: S3ObjectMessage): Delivery<S3ObjectMessage> {
  return {
    body,
    messageId: body.id,
    deliveryCount: 1,
    attempt: 1,
    enqueuedAt: new Date(),
    traceparent: undefined,
    signal: new AbortController().signal,
  };
}

describe('s3-fetcher handler metrics', () => {
  let fauxqs: FauxqsHandle;
  let azurite: AzuriteHandle;
  let s3: S3Client;
  let container: ContainerClient;
  let status: ObjectStatusStore;
  const logger = createLogger('s3-fetcher', { level: process.env.LOG_LEVEL ?? 'silent' });

  const message = (key: string, etag?: string, bucket = BUCKET): S3ObjectMessage => ({
    type: 's3-object',
    schemaVersion: 1,
    id: `msg-${key}`,
    producer: 'sqs-poller',
    time: new Date().toISOString(),
    bucket,
    key,
    ...(etag ? { etag: etag.replaceAll('"', '') } : {}),
    eventTime: '2024-02-01T00:00:00.000Z',
    origin: 's3-notification',
  });
  const put = async (key: string, body: Buffer) =>
    message(key, (await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).ETag);

  before(async () => {
    [fauxqs, azurite] = await Promise.all([startFauxqsServer(), startAzurite()]);
    s3 = fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    await container.createIfNotExists();
    status = new ObjectStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    );
    await status.ensureTable();
  });
  after(async () => {
    await Promise.all([fauxqs?.stop(), azurite?.stop()]);
  });

  it('counts records and bytes once, a redelivery as a duplicate, and leaves messages out to the transport', async () => {
    const { seen, metrics } = recordingMetrics();
    const publisher = new Publishes();
    const handler = createFetchObjectHandler({ s3, container, status, publisher, logger, settings: SETTINGS, metrics });
    const body = gzipNdjson(Array.from({ length: 50 }, (_, i) => code42Event(i)));
    const m = await put('ok/events.json.gz', body);
    assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
    assert.deepEqual(await handler(delivery({ ...m, id: 'redelivered' })), { kind: 'success' });
    assert.deepEqual(seen, { records: 50, bytes: body.length, duplicates: 1, failures: [] });
    assert.equal(publisher.count, 1, 'one batch published; the transport counts it as logferry.messages.out');
  });

  it('counts every failed attempt by its reason code, dead-lettered or retried', async () => {
    const { seen, metrics } = recordingMetrics();
    const publisher = new Publishes();
    const allowList = createS3AllowList({ S3_ALLOWED_BUCKETS: [BUCKET], S3_ALLOWED_PREFIXES: [] });
    const handler = createFetchObjectHandler({
      s3,
      container,
      status,
      publisher,
      logger,
      settings: SETTINGS,
      metrics,
      allowList,
    });
    const corrupt = Buffer.from(gzipNdjson([code42Event(1), code42Event(2)]));
    corrupt.fill(0x42, 12, 60);
    const outcomes = [
      await handler(delivery(message('elsewhere.json', undefined, 'other-bucket'))),
      await handler(delivery(message('missing/never-uploaded.json.gz'))),
      await handler(delivery(await put('poison/corrupt.json.gz', corrupt))),
    ];
    publisher.fail = true;
    outcomes.push(await handler(delivery(await put('retry/unpublished.json', Buffer.from('{"a":1}\n')))));
    assert.deepEqual(
      outcomes.map((o) => o.kind),
      ['deadLetter', 'deadLetter', 'deadLetter', 'retryLater'],
    );
    assert.deepEqual(seen.failures, ['BucketNotAllowed', 'ObjectNotFound', 'CorruptCompression', 'StagingFailed']);
    assert.equal(seen.records, 0);
  });
});
