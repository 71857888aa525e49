// backfill against fauxqs (S3) and the Service Bus stand-in: the right s3-objects messages, the allow-list honoured.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createLogger } from '@logferry/shared/logging/logger';
import { type FauxqsHandle, HandlerSpy, startFauxqsServer } from '@logferry/shared/testing';
import type { Subscription, Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { runCli } from '../support/cli.ts';

const BUCKET = 'code42-logs';
const KEYS = [
  'code42/2024/05/01/a.json.gz',
  'code42/2024/05/01/b c+d.json.gz',
  'code42/2024/05/02/é.json.gz',
  'code42/x.json.gz',
];
const OUTSIDE = ['other/secret.json.gz'];

describe('logferry backfill', () => {
  let fauxqs: FauxqsHandle;
  let bus: ServiceBusStandIn;
  let s3: S3Client;
  let transport: Transport | undefined;
  let subscription: Subscription | undefined;
  let env: Record<string, string>;
  const etags = new Map<string, string>();

  before(async () => {
    [fauxqs, bus] = await Promise.all([
      startFauxqsServer(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    s3 = fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    for (const key of [...KEYS, ...OUTSIDE]) {
      const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: `body of ${key}` }));
      etags.set(key, (put.ETag ?? '').replaceAll('"', ''));
    }
    env = {
      ...fauxqs.env(),
      SERVICEBUS_CONNECTION_STRING: bus.connectionString,
      S3_ALLOWED_BUCKETS: BUCKET,
      S3_ALLOWED_PREFIXES: 'code42/',
    };
  });
  after(async () => {
    await subscription?.stop(0);
    await transport?.close();
    await Promise.all([bus?.close(), fauxqs?.stop()]);
  });

  it('--dry-run lists the objects it would publish and publishes nothing', async () => {
    const r = await runCli(['backfill', `s3://${BUCKET}/code42/2024/`, '--dry-run'], env);
    assert.equal(r.code, 0, r.stderr);
    for (const key of KEYS.slice(0, 3)) assert.ok(r.stdout.includes(`would publish s3://${BUCKET}/${key}`), key);
    assert.match(r.stdout, /listed 3, would publish 3/);
    assert.equal(bus.counts('s3-objects', 's3-fetcher').active, 0);
  });

  it('publishes nothing outside --since/--until', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const r = await runCli(['backfill', `s3://${BUCKET}/`, '--since', future], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /published 0, outside the time window 5/);
    assert.equal(bus.counts('s3-objects', 's3-fetcher').active, 0);
  });

  it('refuses a bucket outside the allow-list with exit 1', async () => {
    const r = await runCli(['backfill', 's3://someone-elses-bucket/'], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not in S3_ALLOWED_BUCKETS/);
  });

  it('publishes one s3-objects message per allowed object in the window, as sqs-poller would', async () => {
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const r = await runCli(
      ['backfill', `s3://${BUCKET}/`, '--since', since, '--until', until, '--batch', '2', '--progress-every', '2'],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listed 5, published 4, outside the time window 0, refused by the allow-list 1/);
    assert.match(r.stderr, /listed \d+, matched \d+, published \d+/, 'progress lines');

    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 's3-fetcher',
    });
    const spy = new HandlerSpy<'s3-objects'>();
    subscription = transport.subscribe({
      topic: 's3-objects',
      subscription: 's3-fetcher',
      handler: spy.handler,
      concurrency: 4,
      maxAttempts: 3,
      backoff: { baseMs: 50, maxMs: 100 },
      maxLockRenewalMs: 10_000,
    });
    const got = await spy.waitForCount(4, () => true, 10_000);
    const bodies = got.map((g) => g.delivery.body).sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(
      bodies.map((b) => b.key),
      [...KEYS].sort((a, b) => a.localeCompare(b)),
    );
    for (const b of bodies) {
      assert.equal(b.bucket, BUCKET);
      assert.equal(b.origin, 'backfill');
      assert.equal(b.producer, 'cli');
      assert.equal(b.etag, etags.get(b.key));
      assert.equal(b.size, Buffer.byteLength(`body of ${b.key}`));
      assert.ok(b.eventTime && Date.parse(b.eventTime) > Date.parse(since));
    }
    assert.equal(new Set(bodies.map((b) => b.id)).size, 4);
  });
});
