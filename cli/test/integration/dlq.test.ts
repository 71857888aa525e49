// dlq list/show/replay against the Service Bus stand-in: a message dead-lettered by one subscription's handler
// is replayed to that subscription only, and --dry-run changes nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '@logferry/shared/logging/logger';
import type { StagedBatchMessage } from '@logferry/shared/messages/index';
import { HandlerSpy } from '@logferry/shared/testing';
import { outcome, type Subscription, type Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { runCli } from '../support/cli.ts';

const batch: StagedBatchMessage = {
  type: 'staged-batch',
  schemaVersion: 1,
  id: 'batch-dlq-1',
  producer: 's3-fetcher',
  time: new Date().toISOString(),
  objectId: 'code42-logs/a.json.gz@v1',
  batchIndex: 0,
  lastBatch: true,
  blobContainer: 'staging',
  blobName: 'Code42/batch-dlq-1.ndjson.gz',
  recordCount: 10,
  rawBytes: 1000,
  compressedBytes: 200,
  source: 'Code42',
};

describe('logferry dlq against the Service Bus stand-in', () => {
  let bus: ServiceBusStandIn;
  let transport: Transport;
  const subs: Subscription[] = [];
  let env: Record<string, string>;
  // la-uploader refuses the batch once (a sink 400 before the fix), then accepts it.
  let fixed = false;
  const la = new HandlerSpy<'staged-batches'>(async () =>
    fixed
      ? outcome.success()
      : outcome.deadLetter('LogsIngestionRejected', 'HTTP 400 from the Logs Ingestion API: bad field'),
  );
  const adx = new HandlerSpy<'staged-batches'>();

  before(async () => {
    bus = await startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) });
    env = { SERVICEBUS_CONNECTION_STRING: bus.connectionString };
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 'la-uploader',
    });
    const options = { concurrency: 2, maxAttempts: 3, backoff: { baseMs: 50, maxMs: 100 }, maxLockRenewalMs: 30_000 };
    subs.push(
      transport.subscribe({ topic: 'staged-batches', subscription: 'la-uploader', handler: la.handler, ...options }),
    );
    subs.push(
      transport.subscribe({ topic: 'staged-batches', subscription: 'adx-ingester', handler: adx.handler, ...options }),
    );
    // s3-fetcher is who publishes staged batches (shared/src/manifest.ts).
    const producer = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 's3-fetcher',
    });
    await producer.publish('staged-batches', [batch]);
    await producer.close();
    await bus.waitFor(() => bus.counts('staged-batches', 'la-uploader').deadLetter === 1, 10_000);
    await adx.waitForMessage(() => true, 10_000);
  });
  after(async () => {
    for (const s of subs) await s.stop(0);
    await transport?.close();
    await bus?.close();
  });

  it('list counts dead-letters per subscription with the top reason', async () => {
    const r = await runCli(['dlq', 'list'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^staged-batches\/la-uploader\s+1\s+\S+\s+LogsIngestionRejected \(1\)$/m);
    assert.match(r.stdout, /^staged-batches\/adx-ingester\s+0\s+-/m);
    assert.match(r.stdout, /^s3-objects\/s3-fetcher\s+0/m);
    assert.equal(bus.counts('staged-batches', 'la-uploader').deadLetter, 1, 'peeking changes nothing');
  });

  it('show prints id, reason, description, delivery count and the body', async () => {
    const r = await runCli(['dlq', 'show', 'staged-batches/la-uploader'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /message id\s+batch-dlq-1/);
    assert.match(r.stdout, /reason\s+LogsIngestionRejected/);
    assert.match(r.stdout, /description\s+HTTP 400 from the Logs Ingestion API: bad field/);
    assert.match(r.stdout, /delivery count \d+/);
    assert.match(r.stdout, /body\s+\{"type":"staged-batch".*"id":"batch-dlq-1"/);
  });

  it('replay --dry-run lists the message and changes nothing', async () => {
    const before = la.records.length;
    const r = await runCli(['dlq', 'replay', 'staged-batches/la-uploader', '--dry-run'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /would replay 1 message/);
    assert.match(r.stdout, /batch-dlq-1\s+LogsIngestionRejected/);
    assert.equal(bus.counts('staged-batches', 'la-uploader').deadLetter, 1);
    assert.equal(bus.counts('staged-batches', 'la-uploader').active, 0);
    assert.equal(la.records.length, before);
  });

  it('replay --id of an unknown message replays nothing and exits 1', async () => {
    const r = await runCli(['dlq', 'replay', 'staged-batches/la-uploader', '--id', 'no-such-id'], env);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /No dead-lettered message with id no-such-id/);
    await bus.waitFor(() => bus.counts('staged-batches', 'la-uploader').locked === 0, 10_000);
    assert.equal(bus.counts('staged-batches', 'la-uploader').deadLetter, 1, 'the skipped message stays dead-lettered');
  });

  it('replay before the fix replays each message once, and leaves the copy dead-lettered again for later', async () => {
    const laBefore = la.records.length;
    const r = await runCli(['dlq', 'replay', 'staged-batches/la-uploader'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Replayed 1 message\(s\) from staged-batches\/la-uploader/);
    await la.waitForCount(laBefore + 1, () => true, 10_000);
    await bus.waitFor(() => bus.counts('staged-batches', 'la-uploader').deadLetter === 1, 10_000);
    assert.equal(la.records.length, laBefore + 1, 'the handler saw the replay once, not in a loop');
    const shown = await runCli(['dlq', 'show', 'staged-batches/la-uploader'], env);
    assert.match(shown.stdout, /reason {10}LogsIngestionRejected/);
    assert.match(shown.stdout, /batch-dlq-1\|replay\|la-uploader\|/);
  });

  it('replay after the fix delivers the message again to that subscription only, then empties its DLQ', async () => {
    fixed = true;
    const adxBefore = adx.records.length;
    const laBefore = la.records.length;
    const r = await runCli(['dlq', 'replay', 'staged-batches/la-uploader'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Replayed 1 message\(s\) from staged-batches\/la-uploader/);
    const got = await la.waitForCount(laBefore + 1, () => true, 10_000);
    const again = got[laBefore];
    assert.ok(again);
    assert.equal(again.delivery.attempt, 1, 'the attempt count starts over');
    assert.equal(adx.records.length, adxBefore, 'adx-ingester did not see the replay');
    assert.equal(bus.counts('staged-batches', 'la-uploader').deadLetter, 0);
    assert.equal(bus.counts('staged-batches', 'adx-ingester').deadLetter, 0);
  });
});
