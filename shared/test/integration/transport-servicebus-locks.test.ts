// The Service Bus transport's message locks, with the real SDK against the stand-in: renewed for a slow
// handler, and a lost lock reported and redelivered.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { outcome } from '../../src/transport/port.ts';
import { LockLostError } from '../../src/transport/servicebus/index.ts';
import {
  drained,
  request,
  startBroker,
  subscribe,
  transportFor,
  withSubscriptionProperties,
} from '../support/servicebus-transport.ts';

describe('Service Bus transport against the stand-in: locks', () => {
  it('renews the lock for a handler that outlives three lock durations', async () => {
    const broker = await startBroker(withSubscriptionProperties({ LockDuration: 'PT1.5S' }));
    const { transport, publisher, lines } = transportFor(broker.connectionString);
    const spy = new HandlerSpy<'ingest-requests'>(async (d) => {
      await new Promise((r) => setTimeout(r, 5_000));
      return d.signal.aborted ? outcome.retryLater('Interrupted', 'aborted') : outcome.success();
    });
    subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler, { maxLockRenewalMs: 60_000 });
    await publisher.publish('ingest-requests', [request('slow')]);

    const done = await spy.waitForMessage(() => true, 15_000);
    assert.equal(done.delivery.signal.aborted, false);
    assert.deepEqual(done.outcome, outcome.success());
    // Completed under the renewed lock: had the lock lapsed, the completion would fail and the
    // message would come back to this same subscription.
    await drained(broker, 'ingest-requests', 'adx-ingester');
    assert.equal(spy.records.length, 1, 'not redelivered');
    assert.ok(!lines.some((l) => /lock/.test(l.msg) && l.level >= 40), 'no lock warnings');
  });

  it('reports a lost lock (signal aborted, warning), keeps going, and the broker redelivers with a rising count', async () => {
    const broker = await startBroker(withSubscriptionProperties({ LockDuration: 'PT1S' }));
    const { transport, publisher, lines } = transportFor(broker.connectionString);
    const spy = new HandlerSpy<'ingest-requests'>(async (d) => {
      if (d.deliveryCount >= 3) return outcome.success();
      await new Promise((resolve) => d.signal.addEventListener('abort', resolve, { once: true }));
      return outcome.success(); // too late: the lock is gone, so this must not be settled
    });
    // No lock renewal at all, so the lock runs out while the handler waits.
    subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler, { maxLockRenewalMs: 0 });
    await publisher.publish('ingest-requests', [request('stuck')]);

    const third = await spy.waitForMessage((d) => d.deliveryCount >= 3, 20_000);
    // The earlier handlers return once their signals abort (a little after their locks ran out).
    await spy.waitForCount(3, () => true, 10_000);
    const counts = spy.records.map((r) => r.delivery.deliveryCount);
    assert.deepEqual(
      counts,
      [...counts].sort((a, b) => a - b),
      'delivery count rises',
    );
    assert.ok(new Set(counts).size === counts.length && counts.length >= 3);
    for (const r of spy.records.filter((x) => x !== third)) {
      assert.ok(r.delivery.signal.reason instanceof LockLostError);
    }
    assert.ok(lines.some((l) => l.level === 40 && /lock lost/.test(l.msg)));
    await drained(broker, 'ingest-requests', 'adx-ingester');
    assert.deepEqual(broker.deadLetters('ingest-requests', 'adx-ingester'), []);
    assert.equal(await transport.ready(), true);
  });
});
