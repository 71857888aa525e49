// The dependency circuit breaker with the real @azure/service-bus SDK against the project's stand-in broker.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { pino } from 'pino';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { sampleStagedBatch } from '../../src/testing/staged-batches.ts';
import { outcome, type Transport } from '../../src/transport/port.ts';
import { createServiceBusTransport } from '../../src/transport/servicebus/index.ts';

const batch = sampleStagedBatch;

describe('Service Bus transport: a dependency outage pauses intake and dead-letters nothing', () => {
  let broker: ServiceBusStandIn;
  let transport: Transport;
  let producer: Transport;
  const lines: { msg: string; dependency?: string; to?: string }[] = [];

  before(async () => {
    broker = await startServiceBusStandIn({ port: 0 });
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    transport = createServiceBusTransport({
      connection: { connectionString: broker.connectionString },
      logger: pino({ level: 'info' }, stream),
      service: 'la-uploader',
    });
    // s3-fetcher is who publishes staged batches (la-uploader may not: shared/src/manifest.ts).
    producer = createServiceBusTransport({
      connection: { connectionString: broker.connectionString },
      logger: pino({ level: 'silent' }),
      service: 's3-fetcher',
    });
  });
  after(async () => {
    await producer?.close();
    await transport?.close();
    await broker?.close();
  });

  it('an outage 20 times the retry budget: no dead letter, few wasted calls, everything handled after', async () => {
    // Retry budget: 2 attempts with backoff capped at 150 ms, well under a second. The outage lasts 8 s.
    const OUTAGE_MS = 8_000;
    let down = true;
    const spy = new HandlerSpy<'staged-batches'>(async () =>
      down ? outcome.retryLater('LogsIngestionUnavailable', '503 from the stand-in') : outcome.success(),
    );
    const sub = transport.subscribe({
      topic: 'staged-batches',
      subscription: 'la-uploader',
      handler: spy.handler,
      concurrency: 4,
      maxAttempts: 2,
      backoff: { baseMs: 50, maxMs: 150 },
      maxLockRenewalMs: 30_000,
      dependencies: ['logs-ingestion', 'tables'],
      breaker: { threshold: 3, pauseBaseMs: 300, pauseMaxMs: 1_500 },
    });
    const ids = Array.from({ length: 20 }, (_, i) => `outage-${i}`);
    await producer.publish('staged-batches', ids.map(batch));

    let sawPaused = false;
    const watch = setInterval(() => {
      if (sub.paused) sawPaused = true;
    }, 20);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const callsDuringOutage = spy.records.length;
    const during = sub.dependencies().find((d) => d.dependency === 'logs-ingestion');
    down = false;
    await Promise.all(ids.map((id) => spy.waitForMessage((d) => d.body.id === id && !down, 15_000)));
    await broker.waitFor(() => {
      const c = broker.counts('staged-batches', 'la-uploader');
      return c.active === 0 && c.locked === 0 && c.scheduled === 0;
    }, 15_000);
    clearInterval(watch);
    await sub.stop(1_000);

    assert.deepEqual(broker.deadLetters('staged-batches', 'la-uploader'), [], 'nothing dead-lettered for an outage');
    const succeeded = new Set(spy.records.filter((r) => r.outcome?.kind === 'success').map((r) => r.delivery.body.id));
    assert.deepEqual([...succeeded].sort(), [...ids].sort(), 'every message handled once the dependency is back');
    assert.ok(sawPaused, 'intake was paused');
    assert.ok(during && during.state !== 'closed', `breaker not closed during the outage: ${JSON.stringify(during)}`);
    // Without the breaker, 20 messages retried every ≤150 ms for 8 s would be dead-lettered after 2 calls
    // each; with it, calls come in probes. What matters: attempts were not used up.
    assert.ok(
      spy.records.every((r) => r.delivery.attempt <= 2),
      'no delivery went past the attempts a message owns',
    );
    console.log(`breaker: ${callsDuringOutage} handler calls for 20 messages during an ${OUTAGE_MS} ms outage`);
    assert.ok(callsDuringOutage < 20 * 8, `${callsDuringOutage} calls: intake was not paused`);
    const transitions = lines.filter((l) => l.dependency === 'logs-ingestion' && l.to).map((l) => l.to);
    assert.equal(transitions[0], 'open');
    assert.ok(transitions.includes('half-open'));
    assert.equal(transitions.at(-1), 'closed');
    assert.deepEqual(
      sub.dependencies().map((d) => d.state),
      ['closed', 'closed'],
    );
  });
});
