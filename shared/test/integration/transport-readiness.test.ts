// transport.ready() asks the broker: the real @azure/service-bus SDK against the project's stand-in broker.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startServiceBusStandIn } from '@logferry/standins';
import { pino } from 'pino';
import type { ServiceName } from '../../src/messages/index.ts';
import { waitUntil } from '../../src/testing/wait.ts';
import { outcome } from '../../src/transport/port.ts';
import { createServiceBusTransport } from '../../src/transport/servicebus/index.ts';
import { batch, captureLogger, onCleanup, startBroker } from '../support/servicebus-transport.ts';

/** The deployed topology, less the topics named in `without`. */
const without =
  (...names: string[]) =>
  <T extends { Name: string }>(topics: T[]): T[] =>
    topics.filter((t) => !names.includes(t.Name));

/** Short cache and timeout so a test sees the broker go away within seconds. */
function transportFor(connectionString: string, service: ServiceName) {
  const log = captureLogger();
  const transport = createServiceBusTransport({
    connection: { connectionString },
    logger: log.logger,
    service,
    retryOptions: { maxRetries: 1, retryDelayInMs: 100, timeoutInMs: 2_000 },
    readiness: { ttlMs: 200, failureTtlMs: 200, timeoutMs: 2_000 },
  });
  onCleanup(() => transport.close());
  return { transport, ...log };
}

describe('Service Bus transport readiness', () => {
  it('a publish-only service is ready while the broker answers, and not once it is gone', async () => {
    const broker = await startBroker();
    const { transport, lines } = transportFor(broker.connectionString, 'sqs-poller');
    assert.equal(await transport.ready(), true, 'ready before anything was published');
    assert.deepEqual(broker.counts('s3-objects', 's3-fetcher').active, 0, 'the probe published nothing');

    await broker.close();
    await waitUntil('not ready', async () => !(await transport.ready()), { timeoutMs: 15_000, intervalMs: 100 });
    assert.ok(lines.some((l) => l.level === 40 && l.msg === 'Service Bus readiness probe failed'));
    // Cached, and shared while in flight: many probes at once are one broker call at most.
    assert.deepEqual(await Promise.all([transport.ready(), transport.ready(), transport.ready()]), [
      false,
      false,
      false,
    ]);

    // The same namespace back on the same port: the SDK reconnects and the next probe sees it.
    const again = await startServiceBusStandIn({ port: broker.port, logger: pino({ level: 'silent' }) });
    onCleanup(() => again.close());
    await waitUntil('ready again', () => transport.ready(), { timeoutMs: 15_000, intervalMs: 100 });
    assert.ok(lines.some((l) => l.level === 30 && l.msg === 'Service Bus answers again'));
    // Before the broker goes: a client closed after its broker waits out the SDK's 60 s close timeout.
    await transport.close();
  });

  it('is not ready when the namespace was never reachable', async () => {
    const broker = await startBroker();
    const unreachable = broker.connectionString.replace(`:${broker.port}`, ':1');
    const { transport } = transportFor(unreachable, 'sqs-poller');
    const started = Date.now();
    assert.equal(await transport.ready(), false);
    assert.ok(Date.now() - started < 5_000, 'answers within the probe timeout');
  });

  it('is not ready when the topic it publishes to does not exist', async () => {
    const broker = await startBroker(without('s3-objects'));
    const { transport, lines } = transportFor(broker.connectionString, 'sqs-poller');
    assert.equal(await transport.ready(), false);
    const failure = lines.find((l) => l.msg === 'Service Bus readiness probe failed');
    assert.equal(failure?.code, 'MessagingEntityNotFound');
    assert.equal(failure?.probe, 'send link to s3-objects');
  });

  it('a consume-only service is probed on its subscription', async () => {
    const broker = await startBroker();
    const producer = transportFor(broker.connectionString, 's3-fetcher').transport;
    await producer.publish('staged-batches', [batch('b-1')]);
    const { transport } = transportFor(broker.connectionString, 'la-uploader');
    let handled = 0;
    const sub = transport.subscribe({
      topic: 'staged-batches',
      subscription: 'la-uploader',
      handler: async () => {
        handled++;
        return outcome.success();
      },
      concurrency: 1,
      maxAttempts: 3,
      backoff: { baseMs: 50, maxMs: 200 },
      maxLockRenewalMs: 10_000,
    });
    onCleanup(() => sub.stop(0));
    await waitUntil('ready', () => transport.ready(), { timeoutMs: 15_000, intervalMs: 100 });
    await waitUntil('handled', async () => handled === 1, { timeoutMs: 15_000 });

    await broker.close();
    await waitUntil('not ready', async () => !(await transport.ready()), { timeoutMs: 15_000, intervalMs: 100 });
    assert.equal(sub.healthy, true, 'a dropped connection is not an unrecoverable subscription error');
  });
});
