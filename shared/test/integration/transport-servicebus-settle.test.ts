// The Service Bus transport settling deliveries, with the real SDK against the stand-in: invalid messages
// dead-lettered at once, retry-later copies for one subscription, dead-lettered past maxAttempts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { outcome } from '../../src/transport/port.ts';
import {
  batch,
  drained,
  onCleanup,
  readDeadLetters,
  request,
  startBroker,
  subscribe,
  transportFor,
} from '../support/servicebus-transport.ts';

describe('Service Bus transport against the stand-in: settling', () => {
  it('dead-letters invalid messages at once with the reason, never calling the handler', async () => {
    const broker = await startBroker();
    const { transport } = transportFor(broker.connectionString);
    const spy = new HandlerSpy<'ingest-requests'>();
    subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler);

    // A producer that bypasses the adapter (a bug, or a foreign tool).
    const raw = new ServiceBusClient(broker.connectionString);
    onCleanup(() => raw.close());
    const sender = raw.createSender('ingest-requests');
    const { size: _size, ...noSize } = request('schema-bad');
    await sender.sendMessages([
      { messageId: 'schema-bad', body: Buffer.from(JSON.stringify({ ...noSize, container: 'x' })) },
      { messageId: 'json-bad', body: Buffer.from('{"type": "ingest-request", ') },
      { messageId: 'good', body: Buffer.from(JSON.stringify(request('good'))) },
    ]);
    await spy.waitForMessage((d) => d.messageId === 'good', 10_000);

    const dead = await readDeadLetters(broker.connectionString, 'ingest-requests', 'adx-ingester', 2);
    const byId = new Map(dead.map((d) => [d.messageId, d]));
    assert.equal(byId.get('schema-bad')?.reason, 'SchemaValidation');
    assert.match(byId.get('schema-bad')?.description ?? '', /container/);
    assert.match(byId.get('schema-bad')?.description ?? '', /size/);
    assert.equal(byId.get('json-bad')?.reason, 'InvalidJson');
    assert.deepEqual(
      spy.records.map((r) => r.delivery.messageId),
      ['good'],
    );
  });

  it('retries later with backoff, only on the retrying subscription, then dead-letters past maxAttempts', async () => {
    const broker = await startBroker();
    const { transport, publisher } = transportFor(broker.connectionString);
    const firstDelayMs = 300;
    const la = new HandlerSpy<'staged-batches'>(async (d) =>
      outcome.retryLater('S3Unavailable', 'upstream 503', d.attempt === 1 ? firstDelayMs : undefined),
    );
    const adx = new HandlerSpy<'staged-batches'>();
    subscribe(transport, 'staged-batches', 'la-uploader', la.handler, { maxAttempts: 3 });
    subscribe(transport, 'staged-batches', 'adx-ingester', adx.handler);

    await publisher.publish('staged-batches', [batch('flaky')]);
    const attempts = await la.waitForCount(3, () => true, 15_000);
    assert.deepEqual(
      attempts.map((r) => r.delivery.attempt),
      [1, 2, 3],
    );
    assert.ok(attempts.every((r) => r.delivery.body.id === 'flaky' && r.delivery.messageId === 'flaky'));
    const [a1, a2] = attempts;
    assert.ok(a1 && a2 && a2.startedAt - (a1.finishedAt ?? 0) >= firstDelayMs - 10, 'the retry waited its delay');

    const [dead] = await readDeadLetters(broker.connectionString, 'staged-batches', 'la-uploader', 1);
    assert.equal(dead?.reason, 'MaxAttemptsExceeded');
    assert.equal(dead?.description, 'S3Unavailable: upstream 503');
    assert.equal(dead?.props['logferry-attempt'], 3);

    // The retry copies went to the topic; adx-ingester must have dropped them without handling.
    await drained(broker, 'staged-batches', 'adx-ingester');
    assert.deepEqual(
      adx.records.map((r) => [r.delivery.body.id, r.delivery.attempt]),
      [['flaky', 1]],
    );
    assert.deepEqual(broker.deadLetters('staged-batches', 'adx-ingester'), []);
  });
});
