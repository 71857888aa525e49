import type { AccessToken, TokenCredential } from '@azure/core-auth';

/** Refresh this long before expiry, like the Azure SDK's bearer-token policy. */
const REFRESH_MARGIN_MS = 2 * 60_000;

export interface TokenSource {
  token(signal?: AbortSignal): Promise<string>;
  /** Drops the cached token (after a 401, so the next request fetches a fresh one). */
  invalidate(): void;
}

/**
 * Caches the bearer token for one scope and refreshes it ahead of expiry, with one refresh in flight
 * at a time however many uploads run. Credentials do their own caching too, but not all of them.
 */
export function createTokenSource(
  credential: TokenCredential,
  scope: string,
  now: () => number = Date.now,
): TokenSource {
  let cached: AccessToken | undefined;
  let pending: Promise<AccessToken> | undefined;
  const fresh = (t: AccessToken) => now() < (t.refreshAfterTimestamp ?? t.expiresOnTimestamp - REFRESH_MARGIN_MS);
  return {
    async token(signal) {
      if (cached && fresh(cached)) return cached.token;
      pending ??= credential
        .getToken(scope, signal ? { abortSignal: signal } : {})
        .then((t) => {
          if (!t) throw new Error(`the Azure credential returned no token for ${scope}`);
          cached = t;
          return t;
        })
        .finally(() => {
          pending = undefined;
        });
      try {
        return (await pending).token;
      } catch (err) {
        // A token that has not expired yet is still good if the refresh fails.
        if (cached && now() < cached.expiresOnTimestamp - 10_000) return cached.token;
        throw err;
      }
    },
    invalidate() {
      cached = undefined;
    },
  };
}
