import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createTracingClient } from '@azure/core-tracing';
import { context, propagation, trace } from '@opentelemetry/api';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { stageMetrics } from '../../src/telemetry/metrics.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/start.ts';
import type { FailureCode } from '../../src/transport/failure-codes.ts';

class MemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function points(reader: MetricReader): Promise<Map<string, DataPoint<unknown>[]>> {
  const { resourceMetrics } = await reader.collect();
  const out = new Map<string, DataPoint<unknown>[]>();
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const m of scope.metrics) out.set(m.descriptor.name, m.dataPoints as DataPoint<unknown>[]);
  }
  return out;
}

describe('stageMetrics', () => {
  it('counts records, bytes, failures by reason code and duplicates by stage', async () => {
    const reader = new MemoryReader();
    const provider = new MeterProvider({ readers: [reader] });
    const m = stageMetrics('s3-fetcher', { meter: provider.getMeter('test') });
    m.records(1000);
    m.bytes(65_536);
    m.failure('S3Throttled');
    m.failure('S3Throttled');
    // Typed callers cannot pass text; one that did (plain JS) must not grow a series per message.
    m.failure('throttled: 503 SlowDown (detail is text)' as FailureCode);
    m.duplicate();
    m.duplicate(2);
    const p = await points(reader);
    assert.equal(p.get('logferry.records')?.[0]?.value, 1000);
    assert.deepEqual(p.get('logferry.records')?.[0]?.attributes, { stage: 's3-fetcher' });
    assert.equal(p.get('logferry.bytes')?.[0]?.value, 65_536);
    assert.deepEqual(
      p.get('logferry.failures')?.map((d) => [d.attributes, d.value]),
      [
        [{ stage: 's3-fetcher', reason: 'S3Throttled' }, 2],
        [{ stage: 's3-fetcher', reason: 'unclassified' }, 1],
      ],
    );
    assert.equal(p.get('logferry.duplicates')?.[0]?.value, 3);
    for (const gone of ['logferry.messages.in', 'logferry.messages.out', 'logferry.deadletters']) {
      assert.equal(p.get(gone), undefined, `${gone} is not a stageMetrics instrument`);
    }
    await provider.shutdown();
  });
});

describe('startTelemetry', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('exports nothing by default but still propagates W3C trace context', async () => {
    telemetry = startTelemetry({ service: 'test-svc', config: {} });
    assert.deepEqual(telemetry.exporters, []);
    const tracer = trace.getTracer('test');
    await tracer.startActiveSpan('op', async (span) => {
      const carrier: Record<string, string> = {};
      propagation.inject(context.active(), carrier);
      assert.match(carrier.traceparent ?? '', new RegExp(`^00-${span.spanContext().traceId}-[0-9a-f]{16}-01$`));
      const extracted = trace.getSpanContext(propagation.extract(context.active(), carrier));
      assert.equal(extracted?.traceId, span.spanContext().traceId);
      await Promise.resolve();
      assert.equal(trace.getActiveSpan(), span, 'context survives an await');
      span.end();
    });
  });

  it('leaves the Azure SDKs without spans when nothing takes them', () => {
    telemetry = startTelemetry({ service: 'test-svc', config: {} });
    const azure = createTracingClient({ namespace: 'Microsoft.Storage', packageName: '@azure/storage-blob' });
    trace.getTracer('test').startActiveSpan('handle', (parent) => {
      const { span } = azure.startSpan('BlobClient.download');
      assert.equal(span.isRecording(), false);
      span.end();
      parent.end();
    });
  });

  it('records spans with the service name, Azure SDK spans included, and meters through the global provider', async () => {
    const spans = new InMemorySpanExporter();
    const reader = new MemoryReader();
    const early = stageMetrics('la-uploader'); // created before the provider exists
    telemetry = startTelemetry({
      service: 'test-svc',
      config: {},
      spanProcessors: [new SimpleSpanProcessor(spans)],
      metricReaders: [reader],
    });
    const azure = createTracingClient({ namespace: 'Microsoft.ServiceBus', packageName: '@azure/service-bus' });
    trace.getTracer('test').startActiveSpan('handle', (parent) => {
      const { span } = azure.startSpan('ServiceBusSender.send');
      span.end();
      parent.end();
    });
    early.records(7);
    const finished = spans.getFinishedSpans();
    assert.deepEqual(finished.map((s) => s.name).sort(), ['ServiceBusSender.send', 'handle']);
    const send = finished.find((s) => s.name === 'ServiceBusSender.send');
    const handle = finished.find((s) => s.name === 'handle');
    assert.equal(send?.parentSpanContext?.spanId, handle?.spanContext().spanId);
    assert.equal(handle?.resource.attributes['service.name'], 'test-svc');
    assert.equal((await points(reader)).get('logferry.records')?.[0]?.value, 7);
  });

  it('can start again after shutdown (globals are released)', async () => {
    await startTelemetry({ service: 'a', config: {} }).shutdown();
    const spans = new InMemorySpanExporter();
    telemetry = startTelemetry({ service: 'b', config: {}, spanProcessors: [new SimpleSpanProcessor(spans)] });
    trace.getTracer('t').startSpan('x').end();
    assert.equal(spans.getFinishedSpans()[0]?.resource.attributes['service.name'], 'b');
  });
});
