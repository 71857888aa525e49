import { z } from 'zod';
import { type ConfigCheck, defineVars, env, requireOneOf, requireWith } from './define.ts';

// The Azure side every service connects to: Service Bus, the identity it authenticates with, and
// Azure Storage (the status table, the staging and data containers). Composed in through parts.ts.

export const serviceBusVars = defineVars(
  {
    SERVICEBUS_CONNECTION_STRING: {
      schema: z
        .string()
        .regex(/(^|;)\s*Endpoint\s*=\s*sb:\/\//i, 'expected a Service Bus connection string (Endpoint=sb://…;…)')
        .optional(),
      description:
        'Service Bus connection string (SAS key, or UseDevelopmentEmulator=true for the emulator and the local stand-in). Leave unset in production and use SERVICEBUS_NAMESPACE with an Azure identity.',
      secret: true,
      example:
        'Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=…;UseDevelopmentEmulator=true',
    },
    SERVICEBUS_NAMESPACE: {
      schema: z
        .string()
        .regex(
          /^(?=.{4,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i,
          'expected a fully qualified host name such as mybus.servicebus.windows.net (no scheme, no path)',
        )
        .optional(),
      description:
        'Fully qualified Service Bus namespace, reached with the Azure credential (workload or managed identity).',
      example: 'logferry-prod.servicebus.windows.net',
    },
  },
  [
    requireOneOf(
      ['SERVICEBUS_CONNECTION_STRING', 'SERVICEBUS_NAMESPACE'],
      'The namespace (with an Azure identity) in production; the connection string for the emulator or the local stand-in.',
    ),
  ],
);

export const azureAuthVars = defineVars(
  {
    AZURE_CLIENT_ID: {
      schema: env.string().optional(),
      description:
        'Client id of the Entra app or user-assigned managed identity (set by AKS workload identity). Without other auth variables, selects that managed identity.',
      aliases: ['APPLICATION_ID'],
    },
    AZURE_TENANT_ID: {
      schema: env.string().optional(),
      description: 'Entra tenant id (set by AKS workload identity).',
      aliases: ['AAD_TENANT_ID'],
    },
    AZURE_CLIENT_SECRET: {
      schema: env.string().optional(),
      description: 'Client secret of a service principal (prefer workload identity or a certificate).',
      aliases: ['APPLICATION_SECRET'],
      secret: true,
    },
    AZURE_CLIENT_CERTIFICATE_PATH: {
      schema: env.string().optional(),
      description: 'PEM file with the service principal certificate and private key.',
    },
    AZURE_FEDERATED_TOKEN_FILE: {
      schema: env.string().optional(),
      description: 'Projected service account token for workload identity (set by AKS; do not set by hand).',
    },
    AZURE_AUTHORITY_HOST: {
      schema: env.url().optional(),
      description: 'Entra authority for sovereign clouds (set by AKS workload identity); defaults to the public cloud.',
    },
  },
  [
    requireWith(
      'AZURE_CLIENT_SECRET',
      ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'],
      'A client secret belongs to a service principal in a tenant.',
    ),
    requireWith(
      'AZURE_CLIENT_CERTIFICATE_PATH',
      ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'],
      'A certificate belongs to a service principal in a tenant.',
    ),
    requireWith(
      'AZURE_FEDERATED_TOKEN_FILE',
      ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'],
      'Workload identity exchanges the token for the identity given by AZURE_CLIENT_ID in AZURE_TENANT_ID (the AKS webhook sets all three).',
    ),
  ],
);

const storageTableUrlCheck: ConfigCheck = {
  description: 'With STORAGE_ACCOUNT_URL not of the form `https://<account>.blob.<suffix>`, set STORAGE_TABLE_URL.',
  check: (c) =>
    c.STORAGE_CONNECTION_STRING === undefined &&
    typeof c.STORAGE_ACCOUNT_URL === 'string' &&
    c.STORAGE_TABLE_URL === undefined &&
    deriveTableUrl(c.STORAGE_ACCOUNT_URL) === undefined
      ? [
          'STORAGE_TABLE_URL is required when STORAGE_ACCOUNT_URL is not a standard blob endpoint (https://<account>.blob.<suffix>), because the table endpoint cannot be derived from it.',
        ]
      : [],
};

export const storageVars = defineVars(
  {
    STORAGE_CONNECTION_STRING: {
      schema: z
        .string()
        .regex(/(AccountName|BlobEndpoint|UseDevelopmentStorage)\s*=/i, 'expected an Azure Storage connection string')
        .optional(),
      description:
        'Azure Storage connection string (Azurite or a key-based account). Leave unset to use STORAGE_ACCOUNT_URL with an Azure identity.',
      aliases: ['AzureStorage'],
      secret: true,
    },
    STORAGE_ACCOUNT_URL: {
      schema: env.url().optional(),
      description: 'Blob service endpoint of the storage account, reached with the Azure credential.',
      example: 'https://logferrydata.blob.core.windows.net',
    },
    STORAGE_TABLE_URL: {
      schema: env.url().optional(),
      description: 'Table service endpoint; derived from STORAGE_ACCOUNT_URL (.blob. → .table.) when unset.',
      example: 'https://logferrydata.table.core.windows.net',
    },
    STATUS_TABLE: {
      schema: z
        .string()
        .regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'table names are 3–63 letters or digits, starting with a letter')
        .default('logferrystatus'),
      description: 'Azure Table holding per-object and per-blob status rows.',
    },
  },
  [
    requireOneOf(
      ['STORAGE_CONNECTION_STRING', 'STORAGE_ACCOUNT_URL'],
      'The account URL (with an Azure identity) in production; the connection string for Azurite.',
    ),
    storageTableUrlCheck,
  ],
);

/** The table endpoint for identity auth: explicit, or derived from a standard blob endpoint. */
export function deriveTableUrl(accountUrl: string, tableUrl?: string): string | undefined {
  if (tableUrl !== undefined) return tableUrl;
  const u = new URL(accountUrl);
  if (!/\.blob\./i.test(u.hostname)) return undefined;
  u.hostname = u.hostname.replace(/\.blob\./i, '.table.');
  return u.toString().replace(/\/$/, '');
}

const CONTAINER_NAME = /^(?!-)(?!.*--)[a-z0-9-]{3,63}(?<!-)$/;
const containerName = () => z.string().regex(CONTAINER_NAME, 'must be a valid container name (3–63 of a-z 0-9 -)');

// Partition keys the other stages use in the shared status table: a data container of the same name
// would mix its blob rows with theirs.
const RESERVED_CONTAINERS = ['scan', 's3obj', 'labatch'];

/**
 * The staging container: where s3-fetcher writes staged batches, and the only container whose blobs a
 * `staged-batches` message may name (a message naming any other is dead-lettered ForbiddenReference).
 */
export const stagingContainerVars = defineVars({
  STAGING_CONTAINER: {
    schema: containerName().default('staging'),
    description:
      'Blob container of staged batches (gzip NDJSON): s3-fetcher writes (and creates) it; a staged-batches message naming any other container is refused (ForbiddenReference).',
  },
});

/** The data container: the blobs blob-scanner scans and the only container an `ingest-requests` message may name. */
export const dataContainerVars = defineVars({
  DATA_CONTAINER: {
    schema: containerName()
      .refine((c) => !RESERVED_CONTAINERS.includes(c), 'is reserved for other rows of the status table')
      .default('data'),
    description:
      'Blob container of the blobs ingested into ADX: blob-scanner scans it; an ingest request naming any other container is refused (ForbiddenReference).',
    example: 'data',
  },
});
