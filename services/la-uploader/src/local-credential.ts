import type { TokenCredential } from '@azure/core-auth';

/** Logs Ingestion hosts of the Azure clouds (DCE and DCR endpoints), where a placeholder token must never go. */
const AZURE_MONITOR_HOST = /\.monitor\.azure\.(com|us|cn)$/i;

/**
 * The credential for a local run against the Logs Ingestion stand-in, which accepts any bearer token:
 * a fixed placeholder, so no Azure identity is needed. Only when LOGFERRY_LOCAL is on (documented as
 * never in production), for any stand-in host (loopback for `npm start`, `standins` in docker-compose),
 * and never for a real Azure Monitor endpoint: there a misconfigured LOGFERRY_LOCAL gets the real identity.
 */
export function localStandInCredential(local: boolean, endpoint: string): TokenCredential | undefined {
  if (!local || AZURE_MONITOR_HOST.test(new URL(endpoint).hostname)) return undefined;
  return { getToken: async () => ({ token: 'logferry-local-stand-in', expiresOnTimestamp: Date.now() + 3_600_000 }) };
}
