import { type Meter, metrics } from '@logferry/shared/telemetry/api';
import { boundInstruments, stageMetrics } from '@logferry/shared/telemetry/metrics';

/** Counts what the poller did, for operators (OpenTelemetry, a no-op until telemetry starts) and tests (stats()). */
export interface PollerMetrics {
  received(n: number): void;
  published(n: number): void;
  /** Records acknowledged without publishing (test events, non-ObjectCreated, …) or messages left for redrive. */
  dropped(reason: string, n?: number): void;
  /** Objects outside the allow-list. */
  refused(reason: string): void;
  deleted(n: number): void;
  publishFailed(): void;
  visibilityExtended(n: number): void;
  stats(): PollerStats;
}

export interface PollerStats {
  readonly received: number;
  readonly published: number;
  readonly dropped: Readonly<Record<string, number>>;
  readonly refused: number;
  readonly deleted: number;
  readonly publishFailures: number;
  readonly visibilityExtensions: number;
}

function createCounters(meter: Meter) {
  return {
    received: meter.createCounter('sqs_poller.messages.received', { description: 'SQS messages received' }),
    published: meter.createCounter('sqs_poller.objects.published', { description: 's3-objects messages published' }),
    dropped: meter.createCounter('sqs_poller.records.dropped', {
      description: 'Records acknowledged without publishing',
    }),
    refused: meter.createCounter('sqs_poller.objects.refused', { description: 'Objects outside the allow-list' }),
    deleted: meter.createCounter('sqs_poller.messages.deleted', { description: 'SQS messages deleted after handling' }),
    publishFailed: meter.createCounter('sqs_poller.publish.failures', {
      description: 'Failed publishes (message left)',
    }),
    extended: meter.createCounter('sqs_poller.visibility.extensions', { description: 'Visibility heartbeats' }),
  };
}

/**
 * Counters go to the meter given, or to whichever meter provider is registered when they are first
 * used (telemetry may start after the poller is built), plus the shared per-stage metrics: SQS messages
 * received count as the stage's `logferry.messages.in`. Its `logferry.messages.out` is the Service Bus
 * transport's count of what it published, so `published` does not add to it.
 */
export function createPollerMetrics(meter?: Meter): PollerMetrics {
  let counters: ReturnType<typeof createCounters> | undefined;
  let provider: unknown;
  const c = () => {
    const current = meter ?? metrics.getMeterProvider();
    if (counters === undefined || provider !== current) {
      counters = createCounters(meter ?? metrics.getMeter('logferry.sqs-poller'));
      provider = current;
    }
    return counters;
  };
  const options = meter ? { meter } : {};
  const stage = stageMetrics('sqs-poller', options);
  const intake = boundInstruments({ stage: 'sqs-poller', 'messaging.system': 'aws_sqs' }, options).messagesIn;
  const s = { received: 0, published: 0, refused: 0, deleted: 0, publishFailures: 0, visibilityExtensions: 0 };
  const dropped: Record<string, number> = {};
  return {
    received(n) {
      s.received += n;
      c().received.add(n);
      intake.add(n);
    },
    published(n) {
      s.published += n;
      c().published.add(n);
    },
    dropped(reason, n = 1) {
      dropped[reason] = (dropped[reason] ?? 0) + n;
      c().dropped.add(n, { reason });
    },
    refused(reason) {
      s.refused += 1;
      c().refused.add(1, { reason });
    },
    deleted(n) {
      s.deleted += n;
      c().deleted.add(n);
    },
    publishFailed() {
      s.publishFailures += 1;
      c().publishFailed.add(1);
      stage.failure('PublishFailed');
    },
    visibilityExtended(n) {
      s.visibilityExtensions += n;
      c().extended.add(n);
    },
    stats: () => ({ ...s, dropped: { ...dropped } }),
  };
}
