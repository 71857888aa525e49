import { z } from 'zod';
import { type ConfigOf, defineConfig, defineVars, env, requireOneOf } from '../define.ts';
import {
  azureAuthVars,
  claimVars,
  consumerVars,
  healthVars,
  localModeVars,
  serviceBusVars,
  stagingContainerVars,
  storageVars,
  telemetryVars,
} from '../parts.ts';

/** The Logs Ingestion API's documented request limit. */
export const LOGS_INGESTION_LIMIT_BYTES = 1_048_576;

export const laUploaderVars = defineVars(
  {
    LOGS_INGESTION_ENDPOINT: {
      schema: env
        .url()
        .refine((u) => u.startsWith('https://'), 'must be https:// (bearer tokens are never sent over plain HTTP)')
        .transform((u) => u.replace(/\/+$/, '')),
      description:
        'Logs ingestion endpoint: the data collection endpoint (DCE) URL, or the DCR’s own logsIngestion endpoint.',
      example: 'https://my-dce-abcd.westeurope-1.ingest.monitor.azure.com',
    },
    DCR_IMMUTABLE_ID: {
      schema: z
        .string()
        .regex(/^dcr-[0-9a-f]{32}$/i, 'expected the DCR immutable id (dcr- and 32 hex digits), not its resource id'),
      description: 'Immutable id of the data collection rule (DCR overview → JSON view → immutableId).',
      example: 'dcr-00000000000000000000000000000000',
    },
    DCR_STREAM: {
      schema: z
        .string()
        .regex(/^(Custom|Microsoft)-[A-Za-z0-9_-]{1,200}$/, 'expected a DCR stream name such as Custom-Code42Events_CL')
        .optional(),
      description:
        'Input stream declared in the DCR. When unset it is derived from LOG_ANALYTICS_TABLE as Custom-<table>_CL, the name the portal’s “New custom log (DCR-based)” wizard gives the stream.',
      example: 'Custom-Code42Events_CL',
    },
    LOG_ANALYTICS_TABLE: {
      schema: z
        .string()
        .regex(
          /^[A-Za-z][A-Za-z0-9_]{0,62}$/,
          'expected a table name (letters, digits, _), with or without the _CL suffix',
        )
        .optional(),
      description:
        'Custom Log Analytics table, with or without _CL (the retired Data Collector API appended _CL itself, so the seeds’ value usually lacks it). Used only to derive DCR_STREAM.',
      aliases: ['C42_LOG_ANALYTICS_TABLE'],
      example: 'Code42Events',
    },
    LOGS_INGESTION_AUDIENCE: {
      schema: env
        .url()
        .default('https://monitor.azure.com')
        .transform((u) => u.replace(/\/+$/, '')),
      description:
        'Token audience of the Logs Ingestion API; change only for sovereign clouds (https://monitor.azure.us, https://monitor.azure.cn).',
    },
    LOGS_INGESTION_TIMEOUT_MS: {
      schema: env.int(1_000, 600_000).default(30_000),
      description: 'Timeout of one upload request; a timeout is retried like a 5xx.',
    },
    LOGS_INGESTION_MAX_REQUEST_BYTES: {
      schema: env.int(1_024, LOGS_INGESTION_LIMIT_BYTES).default(1_000_000),
      description:
        'Largest uncompressed JSON body per request (the API limit is 1,048,576 bytes; the default keeps the margin the Azure SDK keeps). Larger staged batches are split.',
    },
    UPLOAD_INLINE_RETRY_MS: {
      schema: env.int(0, 600_000).default(30_000),
      description:
        'How long one delivery may wait in place for 429 Retry-After and 5xx/timeout retries (lock kept renewed) before it is handed back to the queue with a delay. 0 hands every fault back at once.',
    },
    STAGING_RETENTION: {
      schema: env.oneOf('delete', 'keep').default('delete'),
      description:
        'What to do with a staged batch blob after a successful upload: delete it, or keep it (for audit or replay). A batch s3-fetcher marks as read by adx-ingester too (adxReads) is kept either way; the staging lifecycle rule removes it.',
    },
    STAGING_DELETE_DELAY_MS: {
      schema: env.int(0, 60_000).default(5_000),
      description:
        "With STAGING_RETENTION=delete: how long an uploaded batch's staged blob waits for others, so that up to 256 go in one Blob Batch delete request (about a third of the client CPU per blob of single deletes; under 16 go one by one). Its message is settled first: blobs still queued at a crash are left to the staging lifecycle rule. 0 deletes each at once.",
    },
    MAX_STAGED_BATCH_BYTES: {
      schema: env.int(1_024, 1_073_741_824).default(LOGS_INGESTION_LIMIT_BYTES),
      description:
        'Refuse (dead-letter) a staged batch whose size (compressed or not) exceeds this; bounds memory per in-flight message. The default is what one request can carry: s3-fetcher stages each batch as one request body.',
    },
  },
  [
    requireOneOf(
      ['DCR_STREAM', 'LOG_ANALYTICS_TABLE'],
      'The stream the records are posted to: DCR_STREAM, or LOG_ANALYTICS_TABLE (alias C42_LOG_ANALYTICS_TABLE) to derive Custom-<table>_CL.',
    ),
  ],
);

export const config = defineConfig(
  'la-uploader',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  telemetryVars,
  healthVars,
  consumerVars,
  claimVars,
  localModeVars,
  stagingContainerVars,
  laUploaderVars,
);

export type LaUploaderConfig = ConfigOf<(typeof config)['vars']>;

/**
 * The DCR stream: as configured, or `Custom-<table>_CL`. Custom tables always end in `_CL`, and the
 * portal names a custom table's stream after the table, so both `Code42Events` and `Code42Events_CL`
 * give `Custom-Code42Events_CL`. A DCR whose input stream has another name needs DCR_STREAM.
 */
export function resolveStream(c: {
  DCR_STREAM?: string | undefined;
  LOG_ANALYTICS_TABLE?: string | undefined;
}): string {
  if (c.DCR_STREAM) return c.DCR_STREAM;
  if (!c.LOG_ANALYTICS_TABLE) throw new Error('DCR_STREAM or LOG_ANALYTICS_TABLE must be set');
  const table = c.LOG_ANALYTICS_TABLE.replace(/_CL$/i, '');
  return `Custom-${table}_CL`;
}
