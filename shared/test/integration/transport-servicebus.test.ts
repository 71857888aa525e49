// The Service Bus adapter with the real @azure/service-bus SDK against the project's stand-in broker.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startServiceBusStandIn } from '@logferry/standins';
import { pino } from 'pino';
import { UndeclaredTopicError } from '../../src/manifest.ts';
import type { IngestRequestMessage } from '../../src/messages/index.ts';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { sampleStagedBatch } from '../../src/testing/staged-batches.ts';
import { type Handler, outcome, type Subscription, type Transport } from '../../src/transport/port.ts';
import {
  createServiceBusTransport,
  LockLostError,
  TransportClosedError,
} from '../../src/transport/servicebus/index.ts';

type LogLine = { level: number; msg: string; [k: string]: unknown };

function captureLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
});

/** The deployed topology with every subscription's lock duration and max delivery count overridden. */
async function startBroker(props: { LockDuration?: string; MaxDeliveryCount?: number } = {}) {
  const config = JSON.parse(await readFile(new URL('../../../deploy/servicebus/Config.json', import.meta.url), 'utf8'));
  for (const ns of config.UserConfig.Namespaces) {
    for (const topic of ns.Topics) for (const sub of topic.Subscriptions) Object.assign(sub.Properties, props);
  }
  const dir = await mkdtemp(join(tmpdir(), 'logferry-sb-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'Config.json');
  await writeFile(configPath, JSON.stringify(config));
  const broker = await startServiceBusStandIn({ port: 0, configPath });
  cleanups.push(() => broker.close());
  return broker;
}

type Broker = Awaited<ReturnType<typeof startBroker>>;

/** Resolves once the subscription holds nothing: no active, locked or scheduled message. */
function drained(broker: Broker, topic: string, subscription: string, timeoutMs = 10_000): Promise<void> {
  return broker.waitFor(() => {
    const c = broker.counts(topic, subscription);
    return c.active === 0 && c.locked === 0 && c.scheduled === 0;
  }, timeoutMs);
}

/**
 * A consumer transport as adx-ingester (it consumes both topics these tests use) and, since the
 * manifest lets a service publish only where it does, a publisher as the CLI (which may publish anywhere).
 */
function transportFor(connectionString: string, extra: { onUnrecoverable?: (err: unknown) => void } = {}) {
  const log = captureLogger();
  const transport = createServiceBusTransport({
    connection: { connectionString },
    logger: log.logger,
    service: 'adx-ingester',
    ...extra,
  });
  const publisher = createServiceBusTransport({ connection: { connectionString }, logger: log.logger, service: 'cli' });
  cleanups.push(
    () => transport.close(),
    () => publisher.close(),
  );
  return { transport, publisher, ...log };
}

function subscribe<T extends 'staged-batches' | 'ingest-requests'>(
  transport: Transport,
  topic: T,
  subscription: string,
  handler: Handler<T>,
  more: { concurrency?: number; maxAttempts?: number; maxLockRenewalMs?: number } = {},
): Subscription {
  const sub = transport.subscribe({
    topic,
    subscription,
    handler,
    concurrency: more.concurrency ?? 4,
    maxAttempts: more.maxAttempts ?? 5,
    backoff: { baseMs: 50, maxMs: 200 },
    maxLockRenewalMs: more.maxLockRenewalMs ?? 60_000,
  });
  cleanups.push(() => sub.stop(0));
  return sub;
}

const batch = sampleStagedBatch;

const request = (id: string): IngestRequestMessage => ({
  type: 'ingest-request',
  schemaVersion: 1,
  id,
  producer: 'blob-scanner',
  time: new Date().toISOString(),
  container: 'data',
  blobName: `${id}.csv`,
  etag: '"0x1"',
  size: 42,
  attempt: 1,
});

/** Dead-lettered messages as an operator would read them: through the SDK's dead-letter sub-queue. */
async function readDeadLetters(connectionString: string, topic: string, subscription: string, expected: number) {
  const client = new ServiceBusClient(connectionString);
  try {
    const receiver = client.createReceiver(topic, subscription, {
      subQueueType: 'deadLetter',
      receiveMode: 'receiveAndDelete',
      skipParsingBodyAsJson: true,
    });
    const got: { messageId: string; reason?: string; description?: string; props: Record<string, unknown> }[] = [];
    const deadline = Date.now() + 10_000;
    while (got.length < expected && Date.now() < deadline) {
      const messages = await receiver.receiveMessages(expected - got.length, { maxWaitTimeInMs: 500 });
      for (const m of messages) {
        got.push({
          messageId: String(m.messageId),
          reason: m.deadLetterReason,
          description: m.deadLetterErrorDescription,
          props: (m.applicationProperties ?? {}) as Record<string, unknown>,
        });
      }
    }
    await receiver.close();
    return got;
  } finally {
    await client.close();
  }
}

describe('Service Bus transport against the stand-in', () => {
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

  it('dead-letters invalid messages at once with the reason, never calling the handler', async () => {
    const broker = await startBroker();
    const { transport } = transportFor(broker.connectionString);
    const spy = new HandlerSpy<'ingest-requests'>();
    subscribe(transport, 'ingest-requests', 'adx-ingester', spy.handler);

    // A producer that bypasses the adapter (a bug, or a foreign tool).
    const raw = new ServiceBusClient(broker.connectionString);
    cleanups.push(() => raw.close());
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
    assert.equal((await readDeadLetters(broker.connectionString, 'staged-batches', 'adx-ingester', 0)).length, 0);
  });

  it('renews the lock for a handler that outlives three lock durations', async () => {
    const broker = await startBroker({ LockDuration: 'PT1.5S' });
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
    const broker = await startBroker({ LockDuration: 'PT1S' });
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
