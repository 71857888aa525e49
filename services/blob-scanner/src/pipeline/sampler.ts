import type { TableClient } from '@azure/data-tables';
import type { ServiceBusAdministrationClient } from '@azure/service-bus';
import { readSubscriptionCounts, type SubscriptionCounts } from '@logferry/shared/dead-letters/counts';
import type { SubscriptionRef } from '@logferry/shared/dead-letters/topology';
import type { Logger } from '@logferry/shared/logging/logger';
import { SERVICES } from '@logferry/shared/services';
import type { LocalSinks, SinksSnapshot } from '../http/local-sinks.ts';
import type { EventBus } from '../live/event-bus.ts';
import { publishersOf, THROUGHPUT_UNITS } from './layout.ts';
import { probeReadiness, type ServiceReadiness } from './readiness.ts';
import { SinkTotals, type SinkTotalsSnapshot } from './sink-totals.ts';
import { readThroughput } from './throughput.ts';

/** One point of a stage's chart: its backlog and dead letters then, and what it finished since the point before. */
export interface StagePoint {
  readonly at: string;
  readonly active: number | null;
  readonly deadLetter: number | null;
  readonly done: number | null;
}

export interface StageState extends SubscriptionRef {
  readonly consumer: string;
  readonly active: number | null;
  readonly deadLetter: number | null;
  readonly unit: string;
}

/** What the page's overview draws; `history` only in GET /pipeline, events carry the newest point. */
export interface PipelineState {
  readonly sampledAt: string | null;
  readonly sampleMs: number;
  readonly topics: readonly { name: string; publishers: readonly string[] }[];
  readonly stages: readonly StageState[];
  readonly services: readonly ServiceReadiness[];
  /** What the sinks accepted, from the status table's own rows (la-uploader's batches, the settled blobs). */
  readonly sinks: SinkTotalsSnapshot;
  /** Local runs only: what the stand-ins themselves hold, beside it. */
  readonly localSinks: SinksSnapshot | null;
  readonly latest: Readonly<Record<string, StagePoint>>;
  readonly errors: { serviceBus?: string; stores?: string; sinks?: string };
}

export interface PipelineSamplerOptions {
  readonly admin: Pick<ServiceBusAdministrationClient, 'listSubscriptionsRuntimeProperties'>;
  readonly table: TableClient;
  readonly subscriptions: readonly SubscriptionRef[];
  readonly dataContainer: string;
  readonly readinessUrls: Readonly<Record<string, string>>;
  readonly localSinks?: LocalSinks | undefined;
  readonly events: EventBus;
  readonly logger: Logger;
  readonly sampleMs: number;
  /** Points kept per stage (the chart's width): 180 × 5 s = the last 15 minutes. */
  readonly historyPoints?: number;
}

/** Samples Service Bus counts, the stores' throughput, readiness and the sinks on one timer, for every page. */
export class PipelineSampler {
  readonly #options: PipelineSamplerOptions;
  readonly #history = new Map<string, StagePoint[]>();
  readonly #sinkTotals: SinkTotals;
  #state: PipelineState;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  /** End of the last interval whose throughput was read; the next one starts there, so none is skipped. */
  #countedUntil: string | undefined;

  constructor(o: PipelineSamplerOptions) {
    this.#options = o;
    this.#sinkTotals = new SinkTotals(o.table);
    this.#state = {
      sampledAt: null,
      sampleMs: o.sampleMs,
      topics: [...new Set(o.subscriptions.map((s) => s.topic))].map((name) => ({
        name,
        publishers: publishersOf(name),
      })),
      stages: o.subscriptions.map((s) => ({ ...s, ...emptyCounts(s) })),
      services: SERVICES.map((service) => ({ service, ready: null })),
      sinks: this.#sinkTotals.snapshot(),
      localSinks: null,
      latest: {},
      errors: {},
    };
  }

  start(): void {
    void this.sample();
    this.#timer = setInterval(() => void this.sample(), this.#options.sampleMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The newest state with every stage's kept points. */
  snapshot(): PipelineState & { history: Record<string, StagePoint[]> } {
    return { ...this.#state, history: Object.fromEntries(this.#history) };
  }

  /** One sample at a time; a slow dependency delays the next one rather than piling requests up. */
  sample(): Promise<void> {
    this.#inFlight ??= this.#sample().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #sample(): Promise<void> {
    const o = this.#options;
    const at = new Date().toISOString();
    const since = this.#countedUntil;
    // A stage stamps its completion time just before its write lands: the interval ends a little in the
    // past, so a row written around the sample is counted in the next interval rather than in neither.
    const until = new Date(Date.parse(at) - THROUGHPUT_LAG_MS).toISOString();
    const [counts, done, services, totals, local] = await Promise.allSettled([
      readSubscriptionCounts(o.admin, o.subscriptions, { abortSignal: AbortSignal.timeout(o.sampleMs) }),
      since ? readThroughput(o.table, o.dataContainer, since, until) : Promise.resolve(undefined),
      probeReadiness(SERVICES, o.readinessUrls),
      this.#sinkTotals.advance(until),
      o.localSinks ? o.localSinks.read() : Promise.resolve(null),
    ]);
    // A failed read leaves the interval open: the next sample counts it (its point then holds both).
    if (done.status === 'fulfilled') this.#countedUntil = until;
    const byRef = new Map<string, SubscriptionCounts>();
    if (counts.status === 'fulfilled') for (const c of counts.value) byRef.set(key(c), c);
    const errors: PipelineState['errors'] = {};
    if (counts.status === 'rejected') errors.serviceBus = describe(counts.reason);
    if (done.status === 'rejected') errors.stores = describe(done.reason);
    if (totals.status === 'rejected') errors.sinks = `sink totals not read: ${describe(totals.reason)}`;
    if (Object.keys(errors).length > 0) {
      o.logger.warn({ errors }, 'pipeline sample incomplete');
    }
    const latest: Record<string, StagePoint> = {};
    const stages = o.subscriptions.map((s): StageState => {
      const c = byRef.get(key(s));
      const point: StagePoint = {
        at,
        active: c?.active ?? null,
        deadLetter: c?.deadLetter ?? null,
        done: done.status === 'fulfilled' && done.value ? (done.value[key(s)] ?? null) : null,
      };
      latest[key(s)] = point;
      const points = this.#history.get(key(s)) ?? [];
      points.push(point);
      if (points.length > (o.historyPoints ?? 180)) points.shift();
      this.#history.set(key(s), points);
      return { ...s, ...emptyCounts(s), active: point.active, deadLetter: point.deadLetter };
    });
    this.#state = {
      ...this.#state,
      sampledAt: at,
      stages,
      services: services.status === 'fulfilled' ? services.value : this.#state.services,
      sinks: this.#sinkTotals.snapshot(),
      localSinks: local.status === 'fulfilled' ? local.value : null,
      latest,
      errors,
    };
    o.events.publish({ type: 'pipeline', pipeline: this.#state });
  }
}

/** How far behind the sample time the counted interval ends (a write's stamp precedes its visibility). */
export const THROUGHPUT_LAG_MS = 3_000;

const key = (r: SubscriptionRef) => `${r.topic}/${r.subscription}`;

function emptyCounts(s: SubscriptionRef): Omit<StageState, 'topic' | 'subscription'> {
  return { consumer: s.subscription, active: null, deadLetter: null, unit: THROUGHPUT_UNITS[key(s)] ?? 'done' };
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; statusCode?: number; code?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'no answer in time';
  if (e.statusCode === 401 || e.statusCode === 403)
    return `not allowed to read counts (HTTP ${e.statusCode}): needs Manage rights`;
  return (e.code ?? e.message ?? String(err)).slice(0, 200);
}
