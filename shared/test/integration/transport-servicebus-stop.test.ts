// The Service Bus transport stopping, with the real SDK against the stand-in: a graceful stop that loses
// nothing in flight, close(), and a subscription to a missing entity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { outcome } from '../../src/transport/port.ts';
import { TransportClosedError } from '../../src/transport/servicebus/index.ts';
import { batch, drained, request, startBroker, subscribe, transportFor } from '../support/servicebus-transport.ts';

describe('Service Bus transport against the stand-in: stopping', () => {
  it('stops gracefully with messages in flight and loses none', async () => {
    const broker = await startBroker();
    const first = transportFor(broker.connectionString);
    const release = new Set<string>();
    let wake: () => void = () => undefined;
    const fourStarted = Promise.withResolvers<void>();
    let started = 0;
    const slow = new HandlerSpy<'staged-batches'>(async (d) => {
      if (++started === 4) fourStarted.resolve();
      // Odd ids finish when released (inside the grace period); even ids never finish on their own.
      const odd = Number(d.body.id.split('-')[1]) % 2 === 1;
      await new Promise<void>((resolve) => {
        const check = () => (odd && release.size > 0) || d.signal.aborted;
        if (check()) return resolve();
        const prev = wake;
        wake = () => {
          prev();
          if (check()) resolve();
        };
        d.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return d.signal.aborted ? outcome.retryLater('Interrupted', 'stopping') : outcome.success();
    });
    const sub = subscribe(first.transport, 'staged-batches', 'la-uploader', slow.handler, { concurrency: 4 });
    const ids = ['m-1', 'm-2', 'm-3', 'm-4', 'm-5', 'm-6'];
    await first.publisher.publish('staged-batches', ids.map(batch));
    await fourStarted.promise;
    assert.equal(broker.counts('staged-batches', 'la-uploader').locked, 4, 'four in flight, the rest held back');

    const stopping = sub.stop(1_000);
    release.add('go');
    wake();
    await stopping;
    const completedFirst = slow.finished((d) => !d.signal.aborted).map((r) => r.delivery.body.id);
    assert.ok(completedFirst.length >= 1, 'handlers that finish within the grace period are settled');

    const second = transportFor(broker.connectionString);
    const rest = new HandlerSpy<'staged-batches'>();
    subscribe(second.transport, 'staged-batches', 'la-uploader', rest.handler);
    const expected = ids.filter((id) => !completedFirst.includes(id));
    const got = await rest.waitForCount(expected.length, () => true, 15_000);
    assert.deepEqual(got.map((r) => r.delivery.body.id).sort(), expected);
    const aborted = slow.records.filter((r) => r.delivery.signal.aborted).map((r) => r.delivery.body.id);
    for (const id of aborted) {
      const again = got.find((r) => r.delivery.body.id === id);
      assert.ok(again && again.delivery.deliveryCount >= 2, `${id} was handed back and redelivered`);
    }
    await drained(broker, 'staged-batches', 'la-uploader');
    assert.deepEqual(broker.deadLetters('staged-batches', 'la-uploader'), []);
  });

  it('close() stops its subscriptions, refuses further use and reports not ready', async () => {
    const broker = await startBroker();
    const { transport, publisher } = transportFor(broker.connectionString);
    const spy = new HandlerSpy<'ingest-requests'>();
    const sub = subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler);
    await publisher.publish('ingest-requests', [request('r-1')]);
    await spy.waitForMessage(() => true, 10_000);
    await transport.close();
    await transport.close();
    assert.equal(await transport.ready(), false);
    await assert.rejects(transport.publish('ingest-requests', [request('r-2')]), TransportClosedError);
    assert.throws(() => subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler), TransportClosedError);
    await sub.stop(0);
    await drained(broker, 'ingest-requests', 'adx-ingester');
  });

  it('marks a subscription to a missing entity unhealthy and reports it', async () => {
    const broker = await startBroker();
    const { promise: reported, resolve } = Promise.withResolvers<unknown>();
    const { transport } = transportFor(broker.connectionString, { onUnrecoverable: resolve });
    assert.equal(await transport.ready(), true);
    const sub = subscribe(transport, 'staged-batches', 'no-such-subscription', async () => outcome.success());
    const err = await reported;
    assert.equal((err as { code?: string }).code, 'MessagingEntityNotFound');
    assert.equal(sub.healthy, false);
    assert.equal(await transport.ready(), false);
  });
});
