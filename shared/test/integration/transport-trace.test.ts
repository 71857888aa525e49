// Trace context and metrics across two transports (two clients, as two services would be).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { startServiceBusStandIn } from '@logferry/standins';
import { context, metrics, propagation, SpanKind, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { pino } from 'pino';
import { HandlerSpy } from '../../src/testing/handler-spy.ts';
import { sampleStagedBatch } from '../../src/testing/staged-batches.ts';
import { waitUntil } from '../../src/testing/wait.ts';
import { outcome } from '../../src/transport/port.ts';
import { createServiceBusTransport } from '../../src/transport/servicebus/index.ts';

const spans = new InMemorySpanExporter();
const tracerProvider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [metricReader] });

const silent = () =>
  pino(
    { level: 'info' },
    new Writable({
      write(_c, _e, cb) {
        cb();
      },
    }),
  );

const batch = sampleStagedBatch;

describe('trace context and metrics through the Service Bus transport', () => {
  let broker: Awaited<ReturnType<typeof startServiceBusStandIn>>;
  before(async () => {
    tracerProvider.register({ propagator: new W3CTraceContextPropagator() });
    metrics.setGlobalMeterProvider(meterProvider);
    broker = await startServiceBusStandIn({ port: 0 });
  });
  after(async () => {
    await broker.close();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
    metrics.disable();
  });

  it('makes each processing span a child of the publishing span, retries included', async () => {
    const producer = createServiceBusTransport({
      connection: { connectionString: broker.connectionString },
      logger: silent(),
      service: 's3-fetcher',
    });
    const consumer = createServiceBusTransport({
      connection: { connectionString: broker.connectionString },
      logger: silent(),
      service: 'la-uploader',
    });
    try {
      const activeInHandler: string[] = [];
      const spy = new HandlerSpy<'staged-batches'>(async (d) => {
        activeInHandler.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none');
        return d.attempt === 1 ? outcome.retryLater('S3Unavailable', 'try again', 10) : outcome.success();
      });
      const sub = consumer.subscribe({
        topic: 'staged-batches',
        subscription: 'la-uploader',
        handler: spy.handler,
        concurrency: 2,
        maxAttempts: 3,
        backoff: { baseMs: 10, maxMs: 50 },
        maxLockRenewalMs: 60_000,
      });
      const root = trace.getTracer('test').startSpan('upstream work');
      await context.with(trace.setSpan(context.active(), root), () =>
        producer.publish('staged-batches', [batch('t-1')]),
      );
      root.end();

      // A foreign producer's unparsable message, for the dead-letter counter.
      const raw = new ServiceBusClient(broker.connectionString);
      await raw.createSender('staged-batches').sendMessages({ messageId: 'junk', body: Buffer.from('not json') });
      await raw.close();

      const second = await spy.waitForMessage((d) => d.attempt === 2, 10_000);
      const processSpans = await waitUntil('three process spans (two attempts and the invalid message)', () => {
        const found = spans.getFinishedSpans().filter((s) => s.name === 'staged-batches process');
        return found.length >= 3 ? found : undefined;
      });
      const publish = spans.getFinishedSpans().find((s) => s.name === 'staged-batches publish');
      assert.ok(publish);
      assert.equal(publish.kind, SpanKind.PRODUCER);
      assert.equal(publish.parentSpanContext?.spanId, root.spanContext().spanId);
      const { traceId, spanId } = publish.spanContext();
      assert.match(second.delivery.traceparent ?? '', new RegExp(`^00-${traceId}-${spanId}-0[01]$`));

      const ours = processSpans.filter((s) => s.attributes['messaging.message.id'] === 't-1');
      assert.equal(ours.length, 2);
      for (const s of ours) {
        assert.equal(s.kind, SpanKind.CONSUMER);
        assert.equal(s.spanContext().traceId, traceId);
        assert.equal(s.parentSpanContext?.spanId, spanId);
        assert.equal(s.attributes['messaging.system'], 'servicebus');
        assert.equal(s.attributes['messaging.destination.name'], 'staged-batches');
        assert.equal(s.attributes['messaging.servicebus.message.delivery_count'], 1);
      }
      assert.deepEqual(
        activeInHandler,
        ours.map((s) => s.spanContext().spanId),
        'the handler runs inside its processing span',
      );

      await sub.stop(1_000);
      await metricReader.forceFlush();
      const points = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
      for (const rm of metricExporter.getMetrics()) {
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) points.set(m.descriptor.name, m.dataPoints as never);
        }
      }
      const sum = (name: string, where: (a: Record<string, unknown>) => boolean = () => true) =>
        (points.get(name) ?? []).filter((p) => where(p.attributes)).reduce((n, p) => n + Number(p.value), 0);
      assert.equal(sum('logferry.messages.out'), 1);
      assert.equal(sum('logferry.messages.in'), 3);
      assert.equal(sum('logferry.messages.retried'), 1);
      assert.equal(
        sum('logferry.messages.deadlettered', (a) => a.reason === 'InvalidJson'),
        1,
      );
      const latency = points.get('logferry.settle.latency') ?? [];
      assert.equal(
        latency.reduce((n, p) => n + (p.value as { count: number }).count, 0),
        3,
      );
    } finally {
      await producer.close();
      await consumer.close();
    }
  });
});
