import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isServiceBusError, ServiceBusClient, type ServiceBusReceivedMessage } from '@azure/service-bus';
import { waitUntil } from '@logferry/shared/testing/wait';
import { type ServiceBusStandIn, startServiceBusStandIn } from '../../src/servicebus/index.ts';

// Uses the repository's own deploy/servicebus/Config.json: staged-batches fans out to la-uploader and adx-ingester.
describe('Service Bus stand-in: send, fan-out, receive', () => {
  let sb: ServiceBusStandIn;
  let client: ServiceBusClient;

  before(async () => {
    sb = await startServiceBusStandIn();
    client = new ServiceBusClient(sb.connectionString);
  });
  after(async () => {
    await client.close();
    await sb.close();
  });

  it('prints an emulator-style connection string for a random port', () => {
    assert.ok(sb.port > 0);
    assert.match(sb.connectionString, new RegExp(`^Endpoint=sb://127\\.0\\.0\\.1:${sb.port};`));
    assert.match(sb.connectionString, /UseDevelopmentEmulator=true/);
  });

  it('fans single and batched sends out to every subscription, then completes them', async () => {
    const sender = client.createSender('staged-batches');
    await sender.sendMessages({ body: { n: 1 }, messageId: 'single', applicationProperties: { kind: 'one' } });
    const batch = await sender.createMessageBatch();
    assert.equal(batch.maxSizeInBytes, 256 * 1024);
    assert.ok(batch.tryAddMessage({ body: { n: 2 } }));
    assert.ok(batch.tryAddMessage({ body: { n: 3 }, subject: 'third' }));
    await sender.sendMessages(batch);
    await sender.close();

    for (const subscription of ['la-uploader', 'adx-ingester']) {
      assert.deepEqual(sb.counts('staged-batches', subscription), {
        active: 3,
        scheduled: 0,
        deadLetter: 0,
        locked: 0,
      });
      const receiver = client.createReceiver('staged-batches', subscription);
      const got = [];
      while (got.length < 3) got.push(...(await receiver.receiveMessages(3 - got.length, { maxWaitTimeInMs: 2000 })));
      assert.deepEqual(
        got.map((m) => m.body),
        [{ n: 1 }, { n: 2 }, { n: 3 }],
      );
      const [first, , third] = got;
      assert.equal(first?.messageId, 'single');
      assert.deepEqual(first?.applicationProperties, { kind: 'one' });
      assert.equal(third?.subject, 'third');
      for (const m of got) {
        assert.ok(m.messageId, 'every message has an id');
        assert.equal(m.deliveryCount, 0);
        assert.ok(m.lockToken && /^[0-9a-f-]{36}$/.test(m.lockToken));
        assert.ok(m.enqueuedTimeUtc instanceof Date);
        assert.ok(m.lockedUntilUtc && m.lockedUntilUtc.getTime() > Date.now());
      }
      assert.deepEqual(
        got.map((m) => Number(m.sequenceNumber)),
        [1, 2, 3],
      );
      assert.equal(sb.counts('staged-batches', subscription).locked, 3);
      for (const m of got) await receiver.completeMessage(m);
      assert.deepEqual(sb.counts('staged-batches', subscription), {
        active: 0,
        scheduled: 0,
        deadLetter: 0,
        locked: 0,
      });
      await receiver.close();
    }
  });

  it('returns an empty batch promptly when the subscription is empty (drain is answered)', async () => {
    const receiver = client.createReceiver('s3-objects', 's3-fetcher');
    const started = Date.now();
    const got = await receiver.receiveMessages(5, { maxWaitTimeInMs: 300 });
    assert.deepEqual(got, []);
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
    // The link stays usable after the drain.
    await client.createSender('s3-objects').sendMessages({ body: 'after-drain' });
    const later = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2000 });
    assert.deepEqual(
      later.map((m) => m.body),
      ['after-drain'],
    );
    await receiver.completeMessage(later[0]!);
    await receiver.close();
  });

  it('removes messages on receipt in receiveAndDelete mode', async () => {
    await client.createSender('ingest-requests').sendMessages([{ body: 'x' }, { body: 'y' }]);
    const receiver = client.createReceiver('ingest-requests', 'adx-ingester', { receiveMode: 'receiveAndDelete' });
    const got = [];
    while (got.length < 2) got.push(...(await receiver.receiveMessages(2, { maxWaitTimeInMs: 2000 })));
    assert.deepEqual(
      got.map((m) => m.body),
      ['x', 'y'],
    );
    assert.equal(got[0]?.lockToken, undefined);
    assert.deepEqual(sb.counts('ingest-requests', 'adx-ingester'), {
      active: 0,
      scheduled: 0,
      deadLetter: 0,
      locked: 0,
    });
    await receiver.close();
  });

  it('shares a subscription between competing receivers without duplicates', async () => {
    const sender = client.createSender('ingestion-results');
    await sender.sendMessages(Array.from({ length: 6 }, (_, i) => ({ body: i })));
    const a = client.createReceiver('ingestion-results', 'blob-scanner');
    const b = client.createReceiver('ingestion-results', 'blob-scanner');
    const [fromA, fromB] = await Promise.all([
      a.receiveMessages(3, { maxWaitTimeInMs: 1000 }),
      b.receiveMessages(3, { maxWaitTimeInMs: 1000 }),
    ]);
    const rest = [];
    while (fromA.length + fromB.length + rest.length < 6)
      rest.push(...(await a.receiveMessages(6, { maxWaitTimeInMs: 500 })));
    const bodies = [...fromA, ...fromB, ...rest].map((m) => m.body as number).sort();
    assert.deepEqual(bodies, [0, 1, 2, 3, 4, 5]);
    for (const m of [...fromA, ...rest]) await a.completeMessage(m);
    for (const m of fromB) await b.completeMessage(m);
    assert.deepEqual(sb.counts('ingestion-results', 'blob-scanner'), {
      active: 0,
      scheduled: 0,
      deadLetter: 0,
      locked: 0,
    });
    await Promise.all([a.close(), b.close(), sender.close()]);
  });

  it('refuses a message over the 256 KB standard-tier limit', async () => {
    const sender = client.createSender('s3-objects');
    await assert.rejects(sender.sendMessages({ body: 'x'.repeat(300 * 1024) }), (err: unknown) => {
      assert.ok(isServiceBusError(err), String(err));
      assert.equal(err.code, 'MessageSizeExceeded');
      return true;
    });
    assert.equal(sb.counts('s3-objects', 's3-fetcher').active, 0);
    await sender.close();
  });

  it('raises MessagingEntityNotFound for an unknown topic or subscription', async () => {
    const sender = client.createSender('no-such-topic');
    await assert.rejects(sender.sendMessages({ body: 1 }), (err: unknown) => {
      assert.ok(isServiceBusError(err), String(err));
      assert.equal(err.code, 'MessagingEntityNotFound');
      return true;
    });
    await sender.close();
    const receiver = client.createReceiver('s3-objects', 'no-such-subscription');
    await assert.rejects(receiver.receiveMessages(1, { maxWaitTimeInMs: 500 }), (err: unknown) => {
      assert.ok(isServiceBusError(err), String(err));
      assert.equal(err.code, 'MessagingEntityNotFound');
      return true;
    });
    await receiver.close();
  });

  // The repository's Config.json: every topic requires duplicate detection with a 10-minute window.
  it('accepts a repeated message id but delivers it once, for single, batched and scheduled sends', async () => {
    const sender = client.createSender('s3-objects');
    await sender.sendMessages({ body: { n: 1 }, messageId: 's3obj-abc' });
    await sender.sendMessages({ body: { n: 2 }, messageId: 's3obj-abc' });
    const batch = await sender.createMessageBatch();
    assert.ok(batch.tryAddMessage({ body: { n: 3 }, messageId: 's3obj-abc' }));
    assert.ok(batch.tryAddMessage({ body: { n: 4 }, messageId: 's3obj-def' }));
    await sender.sendMessages(batch);
    await sender.scheduleMessages({ body: { n: 5 }, messageId: 's3obj-def' }, new Date(Date.now() + 500));
    await sender.scheduleMessages({ body: { n: 6 }, messageId: 's3obj-ghi' }, new Date(Date.now() + 500));
    await sender.close();

    const receiver = client.createReceiver('s3-objects', 's3-fetcher');
    const got: ServiceBusReceivedMessage[] = [];
    await waitUntil(
      'the three scheduled messages',
      async () => {
        got.push(...(await receiver.receiveMessages(10, { maxWaitTimeInMs: 1_000 })));
        return got.length >= 3;
      },
      { timeoutMs: 5_000, intervalMs: 0 },
    );
    // Nothing more arrives once the scheduled ones are due.
    got.push(...(await receiver.receiveMessages(10, { maxWaitTimeInMs: 1_500 })));
    for (const m of got) await receiver.completeMessage(m);
    await receiver.close();
    assert.deepEqual(
      got.map((m) => [m.messageId, (m.body as { n: number }).n]),
      [
        ['s3obj-abc', 1],
        ['s3obj-def', 4],
        ['s3obj-ghi', 6],
      ],
    );
  });
});
