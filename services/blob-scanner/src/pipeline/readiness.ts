/** One service's readiness as its own /readyz answered (null: not configured for this page). */
export interface ServiceReadiness {
  readonly service: string;
  readonly ready: boolean | null;
  /** Why not ready, or why unknown: the HTTP status, a timeout, a refused connection. */
  readonly detail?: string;
}

/**
 * Asks each configured service's readiness probe (READINESS_URLS: `service=url`). Services never call each
 * other for work; this is the same probe Kubernetes asks, read-only and answered with 200 or 503.
 */
export async function probeReadiness(
  services: readonly string[],
  urls: Readonly<Record<string, string>>,
  timeoutMs = 2_000,
): Promise<ServiceReadiness[]> {
  return Promise.all(
    services.map(async (service): Promise<ServiceReadiness> => {
      const url = urls[service];
      if (!url) return { service, ready: null, detail: 'no readiness URL configured' };
      try {
        const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(timeoutMs) });
        await res.body?.cancel();
        return res.ok ? { service, ready: true } : { service, ready: false, detail: `readyz answered ${res.status}` };
      } catch (err) {
        const e = err as { name?: string; cause?: { code?: string } };
        const detail =
          e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? 'unreachable');
        return { service, ready: false, detail };
      }
    }),
  );
}
