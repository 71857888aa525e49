import type { BreakerSnapshot } from '../transport/circuit-breaker.ts';
import type { Subscription } from '../transport/port.ts';
import type { ReadinessCheck } from './health.ts';

export interface CachedCheckOptions {
  /** How long an answer stands. Default 5000 ms: kubelet probes every few seconds, the page more often. */
  readonly ttlMs?: number;
  /** How long a failure stands. Default 1000 ms: a pod recovering from a blip turns ready soon after. */
  readonly failureTtlMs?: number;
  readonly now?: () => number;
}

/**
 * Answers from the last result for `ttlMs`, so probes do not turn into a storage call each; probes
 * that arrive while a call is in flight share it, so a slow store never piles up requests.
 * Failures are cached too, for less time: a failing store is not hammered, and a recovered one is seen soon.
 */
export function cachedCheck(check: ReadinessCheck, options: CachedCheckOptions = {}): ReadinessCheck {
  const ttlMs = options.ttlMs ?? 5_000;
  const failureTtlMs = options.failureTtlMs ?? 1_000;
  const now = options.now ?? Date.now;
  let last: { ok: boolean; at: number } | undefined;
  let inFlight: Promise<boolean> | undefined;
  return () => {
    if (last && now() - last.at < (last.ok ? ttlMs : failureTtlMs)) return Promise.resolve(last.ok);
    inFlight ??= check()
      .then((v) => v === true)
      .catch(() => false)
      .then((ok) => {
        last = { ok, at: now() };
        inFlight = undefined;
        return ok;
      });
    return inFlight;
  };
}

/** The slice of a TableClient a readiness probe needs. */
export interface PointReadable {
  getEntity(partitionKey: string, rowKey: string, options?: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * A point read of a row that never exists, bounded by `timeoutMs`: a 404 proves the table service
 * answers and this identity may read it. Anything else (auth refused, unreachable, too slow) is not ready.
 */
export function tableReadable(table: PointReadable, timeoutMs = 1_500): ReadinessCheck {
  return async () => {
    try {
      await table.getEntity('readyz', '~readyz', { abortSignal: AbortSignal.timeout(timeoutMs) });
      return true;
    } catch (error) {
      return (error as { statusCode?: number }).statusCode === 404;
    }
  };
}

/** The slice of a ContainerClient a readiness probe needs. */
export interface BlobListable {
  listBlobsFlat(options?: { abortSignal?: AbortSignal }): {
    byPage(settings?: { maxPageSize?: number }): AsyncIterableIterator<unknown>;
  };
}

export interface ContainerReadableOptions {
  /** Default 1500 ms. */
  readonly timeoutMs?: number;
  /**
   * Count a missing container (404) as ready: the blob service answered and accepted this identity. For a
   * service that reads whichever container each message names, where the name checked is only a default.
   */
  readonly missingIsReady?: boolean;
}

/**
 * A one-blob page of the container's listing, bounded by `timeoutMs`: the blob service answers, the
 * container exists, and this identity may read its blobs. Anything else (auth refused, container
 * missing, unreachable, too slow) is not ready. Wrap in cachedCheck.
 */
export function containerReadable(container: BlobListable, options: ContainerReadableOptions = {}): ReadinessCheck {
  const timeoutMs = options.timeoutMs ?? 1_500;
  return async () => {
    try {
      const pages = container.listBlobsFlat({ abortSignal: AbortSignal.timeout(timeoutMs) }).byPage({ maxPageSize: 1 });
      await pages.next();
      return true;
    } catch (error) {
      return options.missingIsReady === true && (error as { statusCode?: number }).statusCode === 404;
    }
  };
}

/**
 * Readiness and the /readyz detail for consumers that declared dependencies: not ready from the moment a
 * dependency failed for every message until it answers again (the service cannot do its work), with each
 * breaker's state.
 */
export function dependencyHealth(subscriptions: () => readonly Subscription[]): {
  readonly check: () => Promise<boolean>;
  readonly details: () => { dependencies: BreakerSnapshot[] };
} {
  return {
    // Open or probing: the dependency has not answered since it failed for every message.
    check: async () => subscriptions().every((s) => s.dependencies().every((d) => d.state === 'closed')),
    details: () => ({ dependencies: subscriptions().flatMap((s) => s.dependencies()) }),
  };
}
