import { z } from 'zod';
import { type ConfigCheck, defineConfig, defineVars, env, requireOneOf } from '../define.ts';
import {
  azureAuthVars,
  consumerVars,
  dataContainerVars,
  healthVars,
  localModeVars,
  serviceBusVars,
  stagingContainerVars,
  storageVars,
  telemetryVars,
} from '../parts.ts';

const loopbackOnlyWithoutAuth: ConfigCheck = {
  description:
    'KUSTO_AUTH=none only for a loopback endpoint (the local ADX stand-in), or with LOGFERRY_LOCAL=true (the stand-in on a compose network).',
  check: (c) => {
    if (c.KUSTO_AUTH !== 'none' || c.LOGFERRY_LOCAL === true) return [];
    const url = (c.KUSTO_INGEST_URI ?? c.KUSTO_URI) as string | undefined;
    if (url === undefined) return [];
    const host = new URL(url).hostname;
    return ['127.0.0.1', 'localhost', '[::1]'].includes(host)
      ? []
      : [
          `KUSTO_AUTH=none sends no token, which only a local endpoint accepts; ${host} is not loopback. Use KUSTO_AUTH=azure.`,
        ];
  },
};

/** The Kusto endpoints and auth, shared by adx-ingester and completion-checker. */
export const kustoVars = defineVars(
  {
    KUSTO_INGEST_URI: {
      schema: env.url().optional(),
      description:
        'Data management (ingest) endpoint of the cluster. Derived from KUSTO_URI (ingest- prefix) when unset.',
      example: 'https://ingest-mycluster.westeurope.kusto.windows.net',
    },
    KUSTO_URI: {
      schema: env.url().optional(),
      description: 'Query endpoint of the cluster; used to derive KUSTO_INGEST_URI when that is unset.',
      example: 'https://mycluster.westeurope.kusto.windows.net',
    },
    REPOST_AFTER_MS: {
      schema: env.int(0, 86_400_000).default(900_000),
      description:
        'A blob whose post to ADX is unconfirmed (adx-ingester died between the post and its record) is posted again only if ADX has not reported on its source id this long after the first try; until then its redelivery waits. Keep it above the ADX batching time (default 5 min) plus report latency: shorter risks ingesting the blob twice, longer delays a blob whose post never happened.',
    },
    REPORT_LEVEL: {
      schema: env.oneOf('FailuresAndSuccesses', 'FailuresOnly').default('FailuresAndSuccesses'),
      description:
        'What ADX reports to its status queues; set the same value for adx-ingester and completion-checker. With FailuresOnly (for high volume: success reports are not meant for mass use) a posted blob that hears no failure within STALE_AFTER_MS counts as succeeded.',
    },
    KUSTO_AUTH: {
      schema: env.oneOf('azure', 'none').default('azure'),
      description:
        '`azure`: Entra token from the Azure identity variables (workload identity, service principal via AAD_TENANT_ID/APPLICATION_ID/APPLICATION_SECRET, or managed identity). `none`: no token, for the local ADX stand-in on loopback only.',
    },
  },
  [requireOneOf(['KUSTO_INGEST_URI', 'KUSTO_URI'], 'The cluster to ingest into.'), loopbackOnlyWithoutAuth],
);

export const adxIngesterVars = defineVars({
  KUSTO_DATABASE: {
    schema: z.string().regex(/^[A-Za-z0-9_ .-]{1,260}$/, 'expected an ADX database name'),
    description: 'Database the tables of mappings.json live in.',
    example: 'SecurityLogs',
  },
  MAPPINGS_FILE: {
    schema: env.string().default('mappings.json'),
    description: 'JSON file routing blob name prefixes to table, format and mapping; validated at start.',
    example: '/etc/logferry/mappings.json',
  },
  BLOB_URL_AUTH: {
    schema: env.oneOf('auto', 'sas', 'managed-identity').default('auto'),
    description:
      "How ADX reads the blob: `sas` (read-only SAS signed with the account key, or a user delegation key with an Azure identity), `managed-identity` (plain URL plus ';managed_identity=…': the cluster's identity needs Storage Blob Data Reader), `auto` (sas with a connection string, managed-identity otherwise).",
  },
  ADX_BLOB_IDENTITY: {
    schema: z
      .string()
      .regex(/^(system|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i, "'system' or an object id")
      .default('system'),
    description:
      "Identity ADX uses with BLOB_URL_AUTH=managed-identity: 'system' or a user-assigned identity's object id.",
  },
  BLOB_SAS_TTL_MS: {
    schema: env.int(60_000, 7 * 86_400_000).default(86_400_000),
    description: 'Lifetime of the read SAS handed to ADX; must outlast ADX batching and its own retries.',
  },
  BLOB_MAX_ATTEMPTS: {
    schema: env.int(1, 100).default(3),
    description: 'Ingestion attempts per blob version (for staged batches, which no scanner claims).',
  },
  INGEST_REQUESTS_SUBSCRIPTION: {
    schema: env.string().default('adx-ingester'),
    description: 'Subscription on `ingest-requests`.',
  },
  STAGED_BATCHES_SUBSCRIPTION: {
    // `off`, not empty: an empty variable counts as unset and would bring back the default.
    schema: z.string().min(1).default('adx-ingester'),
    description:
      'Subscription on `staged-batches`; batches whose source has an entry in mappings.json are ingested, the rest completed. `off`: do not consume staged batches.',
  },
});

export const config = defineConfig(
  'adx-ingester',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  telemetryVars,
  healthVars,
  consumerVars,
  localModeVars,
  kustoVars,
  dataContainerVars,
  stagingContainerVars,
  adxIngesterVars,
);

/**
 * The data-management endpoint: KUSTO_INGEST_URI, or KUSTO_URI with the `ingest-` prefix Azure uses
 * (not for loopback or IP hosts such as the local stand-in, as azure-kusto-ingest itself does).
 */
export function ingestUri(c: { KUSTO_INGEST_URI?: string | undefined; KUSTO_URI?: string | undefined }): string {
  if (c.KUSTO_INGEST_URI) return c.KUSTO_INGEST_URI;
  if (!c.KUSTO_URI) throw new Error('KUSTO_INGEST_URI or KUSTO_URI is required');
  const url = new URL(c.KUSTO_URI);
  const local = url.hostname === 'localhost' || /^[\d.]+$|^\[.*\]$/.test(url.hostname);
  if (local || url.hostname.startsWith('ingest-')) return c.KUSTO_URI;
  url.hostname = `ingest-${url.hostname}`;
  return url.toString().replace(/\/$/, '');
}
