import { backoffDelay } from './backoff.ts';
import type { RetryCode } from './failure-codes.ts';
import type { Outcome } from './port.ts';

/**
 * What a service depends on, named as operators see it (log field, metric label, /readyz detail).
 * A consumer declares the ones its handler calls; a retry code names which one failed.
 */
export const DEPENDENCIES = ['adx', 'logs-ingestion', 'blob', 'tables', 's3'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

/** The dependency a retry code blames; codes absent here are the message's own trouble. */
const BLAMED: Readonly<Partial<Record<RetryCode, Dependency>>> = {
  AdxIngestUnavailable: 'adx',
  LogsIngestionUnavailable: 'logs-ingestion',
  LogsIngestionThrottled: 'logs-ingestion',
  // Every batch fails alike until the deployment is fixed: an outage from the pipeline's point of view.
  LogsIngestionMisconfigured: 'logs-ingestion',
  StagedBlobUnreadable: 'blob',
  StatusTableUnavailable: 'tables',
  S3Unavailable: 's3',
  S3Throttled: 's3',
};

export function blamedDependency(outcome: Outcome): Dependency | undefined {
  return outcome.kind === 'retryLater' ? BLAMED[outcome.code] : undefined;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerPolicy {
  /** Consecutive failures blamed on a dependency, across messages, that open its breaker. */
  readonly threshold: number;
  /** First pause, doubled (with jitter) each time a probe fails, up to pauseMaxMs. */
  readonly pauseBaseMs: number;
  readonly pauseMaxMs: number;
}

export interface BreakerSnapshot {
  readonly dependency: Dependency;
  readonly state: BreakerState;
  /** Consecutive failures since the last success. */
  readonly failures: number;
  /** While open: when intake resumes with a probe. */
  readonly openUntil?: string;
  /** Set while not closed: since when the dependency has been failing. */
  readonly since?: string;
}

interface Breaker {
  state: BreakerState;
  failures: number;
  trips: number;
  openUntil: number;
  since: number | undefined;
}

export type BreakerChange = (dependency: Dependency, from: BreakerState, to: BreakerState, pauseMs?: number) => void;

/**
 * One breaker per declared dependency. Closed: messages flow; `threshold` failures in a row blamed on a
 * dependency (whatever the message) open it: the consumer stops taking messages for a pause. Then
 * half-open: intake resumes; the first success closes it, a failure opens it again for a longer pause.
 * An outage of any length therefore costs a few attempts at its start and none after.
 */
export class CircuitBreakers {
  readonly #policy: BreakerPolicy;
  readonly #breakers = new Map<Dependency, Breaker>();
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #onChange: BreakerChange;

  constructor(
    dependencies: readonly Dependency[],
    policy: BreakerPolicy,
    options: { now?: () => number; random?: () => number; onChange?: BreakerChange } = {},
  ) {
    if (!(Number.isInteger(policy.threshold) && policy.threshold >= 1)) {
      throw new RangeError(`breaker threshold must be a positive integer, got ${policy.threshold}`);
    }
    if (!(policy.pauseBaseMs >= 1 && policy.pauseMaxMs >= policy.pauseBaseMs)) {
      throw new RangeError('breaker pause needs 1 <= pauseBaseMs <= pauseMaxMs');
    }
    this.#policy = policy;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#onChange = options.onChange ?? (() => {});
    for (const d of new Set(dependencies)) {
      this.#breakers.set(d, { state: 'closed', failures: 0, trips: 0, openUntil: 0, since: undefined });
    }
  }

  /**
   * Records a handler's outcome. Returns the dependency to blame when the failure belongs to an outage
   * (its breaker is now not closed): such a retry must not use up the message's attempts.
   */
  record(outcome: Outcome): Dependency | undefined {
    if (outcome.kind === 'success') {
      for (const [d, b] of this.#breakers) {
        b.failures = 0;
        if (b.state !== 'closed') this.#move(d, b, 'closed');
      }
      return undefined;
    }
    const dependency = blamedDependency(outcome);
    const b = dependency === undefined ? undefined : this.#breakers.get(dependency);
    if (dependency === undefined || b === undefined) return undefined;
    b.failures++;
    b.since ??= this.#now();
    if (b.state === 'half-open' || (b.state === 'closed' && b.failures >= this.#policy.threshold))
      this.#open(dependency, b);
    return b.state === 'closed' ? undefined : dependency;
  }

  /** Open breakers whose pause is over become half-open; returns true when any did (time to probe). */
  tick(): boolean {
    let probed = false;
    for (const [d, b] of this.#breakers) {
      if (b.state === 'open' && this.#now() >= b.openUntil) {
        this.#move(d, b, 'half-open');
        probed = true;
      }
    }
    return probed;
  }

  /** True while any breaker is open: intake stays paused. */
  get paused(): boolean {
    return [...this.#breakers.values()].some((b) => b.state === 'open');
  }

  /** Until the latest open breaker's pause ends (0 when none is open). */
  pauseLeftMs(): number {
    let left = 0;
    for (const b of this.#breakers.values()) if (b.state === 'open') left = Math.max(left, b.openUntil - this.#now());
    return Math.max(0, left);
  }

  snapshot(): BreakerSnapshot[] {
    return [...this.#breakers].map(([dependency, b]) => ({
      dependency,
      state: b.state,
      failures: b.failures,
      ...(b.state === 'open' ? { openUntil: new Date(b.openUntil).toISOString() } : {}),
      ...(b.state !== 'closed' && b.since !== undefined ? { since: new Date(b.since).toISOString() } : {}),
    }));
  }

  #open(d: Dependency, b: Breaker): void {
    b.trips++;
    // Full jitter between half and the whole of the exponential step, so replicas do not probe in step.
    const ceiling = backoffDelay(b.trips, this.#policy.pauseBaseMs, this.#policy.pauseMaxMs, () => 1);
    const pauseMs = Math.round(ceiling / 2 + (ceiling / 2) * this.#random());
    b.openUntil = this.#now() + pauseMs;
    this.#move(d, b, 'open', pauseMs);
  }

  #move(d: Dependency, b: Breaker, to: BreakerState, pauseMs?: number): void {
    const from = b.state;
    b.state = to;
    if (to === 'closed') {
      b.trips = 0;
      b.since = undefined;
    }
    if (from !== to) this.#onChange(d, from, to, pauseMs);
  }
}
