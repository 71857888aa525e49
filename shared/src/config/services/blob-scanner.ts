import { z } from 'zod';
import { SERVICES } from '../../services.ts';
import { type ConfigCheck, defineConfig, defineVars, env, requireWith } from '../define.ts';
import {
  azureAuthVars,
  consumerVars,
  dataContainerVars,
  healthVars,
  localModeVars,
  serviceBusVars,
  storageVars,
  telemetryVars,
} from '../parts.ts';

/** `15m`, `30s`, `2h`, `1d`, or `off`: parsed to milliseconds (0 = off). */
export function parseInterval(text: string): number | undefined {
  if (text.trim().toLowerCase() === 'off') return 0;
  const m = /^(\d+)\s*(ms|s|m|h|d)$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2]!.toLowerCase() as 'ms'];
  return Number(m[1]) * unit;
}

const LOCAL_SINK_VARS = ['LOCAL_SINKS_LOGS_INGESTION_URL', 'LOCAL_SINKS_ADX_URL'] as const;

/** The stand-ins' stats routes exist only in a local run: pointing production at them is a mistake. */
const localSinksOnlyLocally: ConfigCheck = {
  description: `${LOCAL_SINK_VARS.join(' and ')} only with LOGFERRY_LOCAL=true: they read the local stand-ins, which production does not have.`,
  check: (c) =>
    c.LOGFERRY_LOCAL === true
      ? []
      : LOCAL_SINK_VARS.filter((n) => c[n] !== undefined).map(
          (n) =>
            `${n} is set but LOGFERRY_LOCAL is not true. It points the status page at a local stand-in; unset it outside a local run.`,
        ),
};

// Only stand-in endpoints of a local run: http(s) with a host, nothing after it (the routes are fixed).
const standInUrl = () =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine((u) => {
      const url = URL.parse(u);
      // Not a URL at all is the check above's to report.
      return !url || ((url.pathname === '/' || url.pathname === '') && !url.search && !url.hash && !url.username);
    }, "must be the stand-in's base URL (scheme, host and port only)")
    .optional();

export const blobScannerVars = defineVars(
  {
    SCAN_SCHEDULE: {
      schema: z
        .string()
        .default('15m')
        .transform((s, ctx) => {
          const ms = parseInterval(s);
          if (ms === undefined || (ms > 0 && ms < 10_000)) {
            ctx.addIssue({ code: 'custom', message: 'must be an interval of at least 10s (e.g. 15m, 1h) or off' });
            return z.NEVER;
          }
          return ms;
        }),
      description:
        'How often the leader replica scans the whole container (interval like 15m, 1h) or `off` for on-demand only.',
      example: '15m',
    },
    SCAN_PAGE_SIZE: {
      schema: env.int(1, 5000).default(5000),
      description:
        'Blobs listed per page while scanning: 5,000 is the most one List Blobs request returns, and fewer pages make a rescan faster (20,000 unchanged blobs on Azurite: 3.0 s at 5,000, 4.1 s at 500). Memory per page is bounded by this (~1 KB per blob).',
    },
    SCAN_CLAIM_LEASE_MS: {
      schema: env.int(1_000, 86_400_000).default(120_000),
      description:
        'How long a blob claimed by a scan may wait for its ingest request to be published (the scanner died, or the publish failed) before the next scan claims it again, with the same attempt.',
    },
    SCAN_CLAIM_CONCURRENCY: {
      schema: env.int(1, 64).default(8),
      description: 'Status-table claims in flight at once during a scan.',
    },
    SCAN_PUBLISH_BATCH: {
      schema: env.int(1, 500).default(100),
      description: 'Ingest requests published to `ingest-requests` per publish call.',
    },
    BLOB_MAX_ATTEMPTS: {
      schema: env.int(1, 100).default(3),
      description: 'Ingestion attempts per blob version before a failed blob is no longer requeued by scans.',
    },
    SCAN_LEASE_CONTAINER: {
      schema: z.string().min(3).max(63).default('logferry-locks'),
      description:
        'Container holding the lease blob that elects one replica to run scheduled scans (created if missing).',
    },
    SCAN_LEASE_DURATION_S: {
      schema: env.int(15, 60).default(60),
      description:
        'Seconds the scheduled-scan lease lasts (renewed every third of it): how long another replica waits to take over scheduled scans after the leader crashes.',
    },
    HTTP_HOST: {
      schema: z.string().min(1).default('0.0.0.0'),
      description:
        'Address the status page and API listen on. Anonymous local access needs LOGFERRY_LOCAL=true and a loopback address.',
      example: '127.0.0.1',
    },
    HTTP_PORT: {
      schema: env.port().default(8081),
      description: 'Port of the status page and API (POST /scans, GET /blobs, /events); probes stay on HEALTH_PORT.',
    },
    AUTH_TENANT_ID: {
      schema: z.string().min(1).optional(),
      description:
        'Entra ID tenant whose bearer tokens the status API accepts (keys from its JWKS; v1 and v2 issuers). Needs AUTH_AUDIENCE.',
      example: '00000000-0000-0000-0000-000000000000',
    },
    AUTH_AUDIENCE: {
      schema: env.list().optional(),
      description: "Accepted token audiences, comma-separated: the API app's client id and/or App ID URI.",
      example: 'api://logferry-status',
    },
    AUTH_REQUIRED_ROLE: {
      schema: z.string().min(1).optional(),
      description: 'App role a token must carry in `roles` (either this or AUTH_REQUIRED_SCOPE suffices).',
      example: 'Status.ReadWrite',
    },
    AUTH_REQUIRED_SCOPE: {
      schema: z.string().min(1).optional(),
      description: 'Delegated scope a token must carry in `scp`.',
    },
    STATUS_API_KEY: {
      schema: z.string().min(16, 'must be at least 16 characters').optional(),
      description: 'Shared key accepted in `X-Api-Key` or `Authorization: ApiKey <key>` by the status API.',
      secret: true,
    },
    RESULTS_SUBSCRIPTION: {
      schema: z.string().min(1).default('blob-scanner'),
      description: 'Subscription on `ingestion-results` that feeds live status changes to the page.',
    },
    COUNTS_REFRESH_MS: {
      schema: env.int(1_000, 3_600_000).default(10_000),
      description:
        'How often counts per status are re-read in full while a page is open, for what no event reports here (other replicas, `ingesting`); in between, they follow the blob events without a read.',
    },
    PIPELINE_SAMPLE_MS: {
      schema: env.int(1_000, 600_000).default(5_000),
      description:
        "How often the page's pipeline overview is sampled: every subscription's active and dead-letter counts (Service Bus administration API, which needs Manage rights or the Azure Service Bus Data Owner role), the stages' throughput from the status table, readiness, and what the sinks accepted (records of la-uploader's uploaded batches per stream, blobs settled in ADX per table: read once, then only each interval's new rows). The overview keeps 180 samples (15 minutes at 5 s).",
    },
    READINESS_URLS: {
      schema: z
        .string()
        .default('')
        .transform((text, ctx) => {
          const out: Record<string, string> = {};
          for (const entry of text
            .split(',')
            .map((e) => e.trim())
            .filter(Boolean)) {
            const [name = '', url = ''] = entry.split(/=(.*)/s);
            if (
              !(SERVICES as readonly string[]).includes(name) ||
              !/^https?:\/\/[^\s]+$/.test(url) ||
              URL.parse(url)?.username
            ) {
              ctx.addIssue({ code: 'custom', message: `"${entry}" is not <service>=<http(s) URL of its /readyz>` });
              return z.NEVER;
            }
            out[name] = url;
          }
          return out;
        }),
      description:
        "Each service's readiness probe for the overview, comma-separated `<service>=<url>` (e.g. `sqs-poller=http://logferry-sqs-poller:8080/readyz`); a service without one shows as unknown.",
      example: 'sqs-poller=http://127.0.0.1:8082/readyz,s3-fetcher=http://127.0.0.1:8083/readyz',
    },
    LOCAL_SINKS_LOGS_INGESTION_URL: {
      schema: standInUrl(),
      description:
        'Local run only (needs LOGFERRY_LOCAL=true): base URL of the Logs Ingestion stand-in, whose records per stream (`GET /stand-in/streams`) the page shows under “Sinks (local stand-ins)”. Its self-signed CA must be trusted (NODE_EXTRA_CA_CERTS).',
      example: 'https://127.0.0.1:8443',
    },
    LOCAL_SINKS_ADX_URL: {
      schema: standInUrl(),
      description:
        'Local run only (needs LOGFERRY_LOCAL=true): base URL of the ADX stand-in, whose rows per table (`GET /stand-in/tables`) the page shows under “Sinks (local stand-ins)”.',
      example: 'http://127.0.0.1:8090',
    },
  },
  [
    requireWith(
      'AUTH_TENANT_ID',
      ['AUTH_AUDIENCE'],
      'Bearer tokens are checked against an audience as well as a tenant.',
    ),
    requireWith('AUTH_AUDIENCE', ['AUTH_TENANT_ID'], 'The audience belongs to an app registration in a tenant.'),
    localSinksOnlyLocally,
  ],
);

export const config = defineConfig(
  'blob-scanner',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  telemetryVars,
  healthVars,
  consumerVars,
  localModeVars,
  dataContainerVars,
  blobScannerVars,
);
