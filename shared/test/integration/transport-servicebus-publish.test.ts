// The Service Bus transport publishing, with the real @azure/service-bus SDK against the project's stand-in broker:
// fan-out to every subscription, and what it refuses to send.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UndeclaredTopicError } from '../../src/manifest.ts';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { batch, drained, startBroker, subscribe, transportFor } from '../support/servicebus-transport.ts';

describe('Service Bus transport against the stand-in: publishing', () => {
  it('fans a staged batch out to both subscriptions (la-uploader and adx-ingester)', async () => {
    const broker = await startBroker();
    const { publisher } = transportFor(broker.connectionString);
    const consumer = transportFor(broker.connectionString).transport;
    const la = new HandlerSpy<'staged-batches'>();
    const adx = new HandlerSpy<'staged-batches'>();
    subscribe(consumer, 'staged-batches', 'la-uploader', la.handler);
    subscribe(consumer, 'staged-batches', 'adx-ingester', adx.handler);

    const sent = ['b-1', 'b-2', 'b-3'].map(batch);
    await publisher.publish('staged-batches', sent);

    for (const spy of [la, adx]) {
      const got = await spy.waitForCount(3, () => true, 10_000);
      assert.deepEqual(
        got.map((r) => r.delivery.body).sort((a, b) => a.id.localeCompare(b.id)),
        sent,
      );
      for (const r of got) {
        assert.equal(r.delivery.messageId, r.delivery.body.id);
        assert.equal(r.delivery.attempt, 1);
        assert.ok(r.delivery.deliveryCount >= 1);
        assert.ok(r.delivery.enqueuedAt instanceof Date);
      }
    }
    assert.equal(await consumer.ready(), true);
  });

  it('refuses to publish to a topic the manifest does not declare for the service', async () => {
    const broker = await startBroker();
    const { transport } = transportFor(broker.connectionString);
    // adx-ingester consumes staged-batches but never publishes there (its retry copies are the transport's own).
    await assert.rejects(transport.publish('staged-batches', [batch('b-1')]), UndeclaredTopicError);
    await drained(broker, 'staged-batches', 'la-uploader');
    assert.equal(broker.counts('staged-batches', 'la-uploader').active, 0, 'nothing reached the broker');
  });

  it('refuses to publish a message that fails its schema', async () => {
    const broker = await startBroker();
    const { transport, publisher } = transportFor(broker.connectionString);
    const bad = { ...batch('b-bad'), recordCount: -1 };
    await assert.rejects(publisher.publish('staged-batches', [batch('ok'), bad]), /recordCount/);
    const spy = new HandlerSpy<'staged-batches'>();
    subscribe(transport, 'staged-batches', 'la-uploader', spy.handler);
    await publisher.publish('staged-batches', [batch('after')]);
    const first = await spy.waitForMessage(() => true, 10_000);
    assert.equal(first.delivery.body.id, 'after', 'nothing from the refused call reached the broker');
  });
});
