import { type Counter, type Histogram, type Meter, type MeterProvider, metrics } from '@opentelemetry/api';

/** The per-stage numbers every service reports; `stage` is the service or step name (e.g. "s3-fetcher"). */
export interface StageMetrics {
  messageIn(count?: number): void;
  messageOut(count?: number): void;
  records(count: number): void;
  bytes(count: number): void;
  /** A transient failure that will be retried. `reason` is a short code (e.g. "throttled"), not an error message. */
  failure(reason: string): void;
  deadLetter(reason: string): void;
  /** Milliseconds from receiving a message to settling it. */
  settleLatency(ms: number): void;
}

export const METER_NAME = 'logferry';

interface Instruments {
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly records: Counter;
  readonly bytes: Counter;
  readonly failures: Counter;
  readonly deadletters: Counter;
  readonly settleLatency: Histogram;
}

function createInstruments(meter: Meter): Instruments {
  return {
    messagesIn: meter.createCounter('logferry.messages.in', { description: 'Messages received', unit: '{message}' }),
    messagesOut: meter.createCounter('logferry.messages.out', { description: 'Messages published', unit: '{message}' }),
    records: meter.createCounter('logferry.records', { description: 'Log records processed', unit: '{record}' }),
    bytes: meter.createCounter('logferry.bytes', { description: 'Payload bytes processed', unit: 'By' }),
    failures: meter.createCounter('logferry.failures', {
      description: 'Transient failures (retried)',
      unit: '{failure}',
    }),
    deadletters: meter.createCounter('logferry.deadletters', {
      description: 'Messages dead-lettered',
      unit: '{message}',
    }),
    settleLatency: meter.createHistogram('logferry.settle.latency', {
      description: 'Time from receive to settle',
      unit: 'ms',
      advice: {
        explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000],
      },
    }),
  };
}

// Instruments are bound to the provider that created them; a module-level stageMetrics() created before
// startTelemetry registered the real provider would report into the no-op one forever. So resolve per provider.
const byProvider = new WeakMap<MeterProvider, Instruments>();

function instrumentsFor(meter: Meter | undefined): () => Instruments {
  if (meter !== undefined) {
    const fixed = createInstruments(meter);
    return () => fixed;
  }
  return () => {
    const provider = metrics.getMeterProvider();
    let found = byProvider.get(provider);
    if (found === undefined) {
      found = createInstruments(provider.getMeter(METER_NAME));
      byProvider.set(provider, found);
    }
    return found;
  };
}

/** Bounded attribute values: metric cardinality must not grow with input (reasons are codes, not messages). */
function reasonCode(reason: string): string {
  const code = reason.trim().slice(0, 64);
  return code.length > 0 ? code : 'unknown';
}

export function stageMetrics(stage: string, options: { meter?: Meter } = {}): StageMetrics {
  const get = instrumentsFor(options.meter);
  const attrs = { stage };
  return {
    messageIn: (count = 1) => get().messagesIn.add(count, attrs),
    messageOut: (count = 1) => get().messagesOut.add(count, attrs),
    records: (count) => get().records.add(count, attrs),
    bytes: (count) => get().bytes.add(count, attrs),
    failure: (reason) => get().failures.add(1, { stage, reason: reasonCode(reason) }),
    deadLetter: (reason) => get().deadletters.add(1, { stage, reason: reasonCode(reason) }),
    settleLatency: (ms) => get().settleLatency.record(Math.max(0, ms), attrs),
  };
}
