import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { metrics } from '@opentelemetry/api';
import { type DataPoint, type Histogram, MetricReader } from '@opentelemetry/sdk-metrics';
import { pino } from 'pino';
import { boundInstruments, METER_NAME, METRIC_NAMES, stageMetrics } from '../../src/telemetry/metrics.ts';
import { startTelemetry, type Telemetry } from '../../src/telemetry/start.ts';
import { createTransportMetrics } from '../../src/transport/servicebus/telemetry.ts';

class MemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

interface Exported {
  readonly name: string;
  readonly unit: string;
  readonly description: string;
  readonly points: DataPoint<unknown>[];
}

async function exported(reader: MetricReader): Promise<Exported[]> {
  const { resourceMetrics } = await reader.collect();
  return resourceMetrics.scopeMetrics.flatMap((scope) =>
    scope.metrics.map((m) => ({
      name: m.descriptor.name,
      unit: m.descriptor.unit,
      description: m.descriptor.description,
      points: m.dataPoints as DataPoint<unknown>[],
    })),
  );
}

/** The OpenTelemetry SDK's own warnings, as startTelemetry hands them to the service logger. */
function warningLog() {
  const lines: { msg?: string; args?: unknown[] }[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

const text = (line: { msg?: string; args?: unknown[] }) => [line.msg, ...(line.args ?? [])].join(' ');

const UNITS: Record<string, string> = {
  [METRIC_NAMES.messagesIn]: '{message}',
  [METRIC_NAMES.messagesOut]: '{message}',
  [METRIC_NAMES.deadLettered]: '{message}',
  [METRIC_NAMES.retried]: '{message}',
  [METRIC_NAMES.settleLatency]: 'ms',
  [METRIC_NAMES.dependencyState]: '1',
  [METRIC_NAMES.records]: '{record}',
  [METRIC_NAMES.bytes]: 'By',
  [METRIC_NAMES.failures]: '{failure}',
  [METRIC_NAMES.duplicates]: '{message}',
};

describe('per-stage metrics under startTelemetry', () => {
  let telemetry: Telemetry | undefined;
  afterEach(async () => {
    await telemetry?.shutdown();
    telemetry = undefined;
  });

  it('registers each logferry instrument once: no duplicate-instrument warning, one metric per name', async () => {
    const { logger, lines } = warningLog();
    const reader = new MemoryReader();
    // As in a service: stage metrics made before telemetry starts, the transport's after.
    const fetcher = stageMetrics('s3-fetcher');
    const uploader = stageMetrics('la-uploader');
    telemetry = startTelemetry({ service: 'test-svc', config: {}, logger, metricReaders: [reader] });
    const fetcherTransport = createTransportMetrics('s3-fetcher');
    const uploaderTransport = createTransportMetrics('la-uploader');
    const pollerIntake = boundInstruments({ stage: 'sqs-poller', 'messaging.system': 'aws_sqs' }).messagesIn;

    fetcherTransport.messagesIn.add(1, { 'messaging.destination.name': 's3-objects', subscription: 's3-fetcher' });
    fetcherTransport.messagesOut.add(3, { 'messaging.destination.name': 'staged-batches' });
    fetcherTransport.deadLettered.add(1, { 'messaging.destination.name': 's3-objects', reason: 'ObjectNotFound' });
    fetcherTransport.retried.add(1, { 'messaging.destination.name': 's3-objects' });
    fetcherTransport.settleLatency.record(120, { result: 'completed' });
    uploaderTransport.messagesIn.add(3, { 'messaging.destination.name': 'staged-batches' });
    uploaderTransport.settleLatency.record(80, { result: 'completed' });
    uploaderTransport.dependencyState.record(2, { dependency: 'logs-ingestion' });
    pollerIntake.add(2);
    fetcher.records(1000);
    fetcher.bytes(4096);
    fetcher.failure('S3Throttled');
    fetcher.duplicate();
    uploader.records(1000);
    uploader.bytes(65_536);
    uploader.failure('LogsIngestionThrottled');
    uploader.duplicate();

    const all = await exported(reader);
    const names = all.map((m) => m.name).sort();
    assert.deepEqual(names, [...new Set(names)], 'each metric name is exported once');
    assert.deepEqual(names, Object.values(METRIC_NAMES).sort());
    for (const m of all) assert.equal(m.unit, UNITS[m.name], `${m.name} unit`);
    assert.deepEqual(
      lines.filter((l) => /already been registered|incompatible/.test(text(l))).map(text),
      [],
      'no duplicate-instrument warning',
    );

    const byName = new Map(all.map((m) => [m.name, m.points]));
    const sum = (name: string, stage: string) =>
      (byName.get(name) ?? []).filter((p) => p.attributes.stage === stage).reduce((n, p) => n + Number(p.value), 0);
    assert.equal(sum(METRIC_NAMES.messagesOut, 's3-fetcher'), 3, 'messages out counted once');
    assert.equal(sum(METRIC_NAMES.messagesIn, 'la-uploader'), 3);
    assert.equal(sum(METRIC_NAMES.messagesIn, 'sqs-poller'), 2);
    assert.equal(sum(METRIC_NAMES.records, 'la-uploader'), 1000);
    assert.equal(sum(METRIC_NAMES.bytes, 'la-uploader'), 65_536);
    assert.deepEqual(
      byName
        .get(METRIC_NAMES.failures)
        ?.map((p) => [p.attributes.stage, p.attributes.reason])
        .sort(),
      [
        ['la-uploader', 'LogsIngestionThrottled'],
        ['s3-fetcher', 'S3Throttled'],
      ],
    );
    assert.deepEqual(byName.get(METRIC_NAMES.deadLettered)?.[0]?.attributes, {
      'messaging.destination.name': 's3-objects',
      reason: 'ObjectNotFound',
      'messaging.system': 'servicebus',
      stage: 's3-fetcher',
    });
    const latency = byName.get(METRIC_NAMES.settleLatency) ?? [];
    assert.equal(
      latency.reduce((n, p) => n + (p.value as Histogram).count, 0),
      2,
    );

    // The capture does see the conflict this test guards against.
    metrics.getMeter(METER_NAME).createCounter(METRIC_NAMES.messagesIn, { description: 'another', unit: '1' });
    assert.ok(
      lines.some((l) => /already been registered/.test(text(l))),
      'a conflicting registration would have been reported',
    );
  });
});
