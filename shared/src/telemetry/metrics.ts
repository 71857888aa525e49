import {
  type Attributes,
  type Counter,
  type Gauge,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import { type FailureCode, failureLabel } from '../transport/failure-codes.ts';

export const METER_NAME = 'logferry';

/**
 * Every instrument on the `logferry` meter, each with its one unit and description. Create them
 * only through this module: a second registration of a name with another unit or description makes
 * the SDK warn and export two series under that name.
 *
 * Message level (the Service Bus transport records these for every consumer and publisher; sqs-poller
 * adds its SQS intake to messages.in):
 * - `logferry.messages.in`: messages a stage took in (`messaging.system` servicebus or aws_sqs).
 * - `logferry.messages.out`: messages a stage published to a topic.
 * - `logferry.messages.deadlettered`: deliveries dead-lettered, by `reason`.
 * - `logferry.messages.retried`: deliveries rescheduled for a later attempt.
 * - `logferry.settle.latency`: receipt to acknowledged settlement, by `result`.
 * - `logferry.dependency.state`: each declared dependency's circuit breaker, by `dependency`: 0 closed,
 *   1 half-open (probing), 2 open (intake paused for an outage).
 *
 * Work level (the services record these through {@link stageMetrics}):
 * - `logferry.records`, `logferry.bytes`: what a stage processed.
 * - `logferry.failures`: failed attempts, by `reason` code.
 * - `logferry.duplicates`: redelivered work found already done.
 *
 * Every point carries `stage` (the service name).
 */
export const METRIC_NAMES = {
  messagesIn: 'logferry.messages.in',
  messagesOut: 'logferry.messages.out',
  deadLettered: 'logferry.messages.deadlettered',
  retried: 'logferry.messages.retried',
  settleLatency: 'logferry.settle.latency',
  dependencyState: 'logferry.dependency.state',
  records: 'logferry.records',
  bytes: 'logferry.bytes',
  failures: 'logferry.failures',
  duplicates: 'logferry.duplicates',
} as const;

export interface StageInstruments {
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly deadLettered: Counter;
  readonly retried: Counter;
  /** Milliseconds. */
  readonly settleLatency: Histogram;
  /** 0 closed, 1 half-open, 2 open. */
  readonly dependencyState: Gauge;
  readonly records: Counter;
  readonly bytes: Counter;
  readonly failures: Counter;
  readonly duplicates: Counter;
}

function createInstruments(meter: Meter): StageInstruments {
  const n = METRIC_NAMES;
  return {
    messagesIn: meter.createCounter(n.messagesIn, {
      description: 'Messages taken in: Service Bus deliveries, or SQS messages for sqs-poller',
      unit: '{message}',
    }),
    messagesOut: meter.createCounter(n.messagesOut, {
      description: 'Messages published to a Service Bus topic',
      unit: '{message}',
    }),
    deadLettered: meter.createCounter(n.deadLettered, {
      description: 'Deliveries dead-lettered, by reason',
      unit: '{message}',
    }),
    retried: meter.createCounter(n.retried, {
      description: 'Deliveries rescheduled for a later attempt',
      unit: '{message}',
    }),
    settleLatency: meter.createHistogram(n.settleLatency, {
      description: 'Time from receiving a delivery to its settlement acknowledged by the broker (handler included)',
      unit: 'ms',
      advice: {
        explicitBucketBoundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000],
      },
    }),
    dependencyState: meter.createGauge(n.dependencyState, {
      description: 'Circuit breaker of a dependency, by dependency: 0 closed, 1 half-open (probing), 2 open (paused)',
      unit: '1',
    }),
    records: meter.createCounter(n.records, { description: 'Log records processed', unit: '{record}' }),
    bytes: meter.createCounter(n.bytes, { description: 'Payload bytes processed', unit: 'By' }),
    failures: meter.createCounter(n.failures, {
      description: "Failed attempts at a stage's work, by reason code",
      unit: '{failure}',
    }),
    duplicates: meter.createCounter(n.duplicates, {
      description: 'Redelivered work skipped as already done',
      unit: '{message}',
    }),
  };
}

// Instruments are bound to the provider that created them; instruments created before startTelemetry
// registered the real provider would report into the no-op one forever. So resolve per provider.
// Each meter gets its instruments once, however many stages and transports record into it.
const byProvider = new WeakMap<MeterProvider, StageInstruments>();
const byMeter = new WeakMap<Meter, StageInstruments>();

function onMeter(meter: Meter): StageInstruments {
  let found = byMeter.get(meter);
  if (found === undefined) {
    found = createInstruments(meter);
    byMeter.set(meter, found);
  }
  return found;
}

function instrumentsFor(meter: Meter | undefined): () => StageInstruments {
  if (meter !== undefined) {
    const fixed = onMeter(meter);
    return () => fixed;
  }
  return () => {
    const provider = metrics.getMeterProvider();
    let found = byProvider.get(provider);
    if (found === undefined) {
      found = onMeter(provider.getMeter(METER_NAME));
      byProvider.set(provider, found);
    }
    return found;
  };
}

export interface InstrumentOptions {
  /** A fixed meter (tests); by default the meter of whichever provider is registered when recording. */
  readonly meter?: Meter;
}

/**
 * The `logferry` instruments with `attributes` added to every point. For the transport and
 * sqs-poller's intake; services record their work through stageMetrics. A `reason` is a code
 * (transport/failure-codes.ts), never text: metric cardinality must not grow with input.
 */
export function boundInstruments(attributes: Attributes, options: InstrumentOptions = {}): StageInstruments {
  const get = instrumentsFor(options.meter);
  const merge = (extra: Attributes | undefined): Attributes => ({ ...extra, ...attributes });
  const counter = (pick: (i: StageInstruments) => Counter): Counter => ({
    add: (value, extra, ctx) => pick(get()).add(value, merge(extra), ctx),
  });
  return {
    messagesIn: counter((i) => i.messagesIn),
    messagesOut: counter((i) => i.messagesOut),
    deadLettered: counter((i) => i.deadLettered),
    retried: counter((i) => i.retried),
    settleLatency: {
      record: (value, extra, ctx) => get().settleLatency.record(Math.max(0, value), merge(extra), ctx),
    },
    dependencyState: { record: (value, extra, ctx) => get().dependencyState.record(value, merge(extra), ctx) },
    records: counter((i) => i.records),
    bytes: counter((i) => i.bytes),
    failures: counter((i) => i.failures),
    duplicates: counter((i) => i.duplicates),
  };
}

/**
 * The work a service reports; `stage` is the service name (e.g. "s3-fetcher"). Messages in and out,
 * dead-letters, retries and settle latency are the transport's: a service does not count them.
 */
export interface StageMetrics {
  records(count: number): void;
  bytes(count: number): void;
  /** A failed attempt (retried or dead-lettered), by its code. */
  failure(code: FailureCode): void;
  /** A redelivery of work already done, acknowledged without doing it again: not a failure. */
  duplicate(count?: number): void;
}

export function stageMetrics(stage: string, options: InstrumentOptions = {}): StageMetrics {
  const i = boundInstruments({ stage }, options);
  return {
    records: (count) => i.records.add(count),
    bytes: (count) => i.bytes.add(count),
    failure: (code) => i.failures.add(1, { reason: failureLabel(code) }),
    duplicate: (count = 1) => i.duplicates.add(count),
  };
}
