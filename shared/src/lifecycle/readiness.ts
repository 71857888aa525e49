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
