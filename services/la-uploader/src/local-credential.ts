import type { TokenCredential } from '@azure/core-auth';

/**
 * The local run's stand-in accepts any bearer token; this one is a fixed placeholder, handed out
 * only for a loopback endpoint so a misconfigured LOGFERRY_LOCAL can never send it to Azure.
 */
export function localStandInCredential(endpoint: string): TokenCredential | undefined {
  const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) return undefined;
  return { getToken: async () => ({ token: 'logferry-local-stand-in', expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
