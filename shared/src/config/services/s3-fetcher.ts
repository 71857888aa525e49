import { z } from 'zod';
import { SOURCE_NAME } from '../../messages/source-name.ts';
import { awsVars } from '../aws-parts.ts';
import { defineConfig, defineVars, env } from '../define.ts';
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

const GIB = 1024 ** 3;

export const s3FetcherVars = defineVars({
  CONCURRENCY: {
    schema: env.int(1, 256).default(5),
    description:
      'Objects fetched at once by this replica (the s3-objects subscription concurrency). Memory grows with this, never with object size.',
    aliases: ['PARALLEL_S3_OPERATIONS'],
  },
  SUBSCRIPTION: {
    schema: z.string().min(1).default('s3-fetcher'),
    description: 'Subscription on the `s3-objects` topic this service consumes.',
  },
  MAX_BATCH_BYTES: {
    schema: env.int(1_024, 1_000_000).default(950_000),
    description:
      'Upper bound of a batch as the JSON array sent to the Logs Ingestion API (1 MB per request). The staged blob is that request body, sent as it is when it fits la-uploader’s LOGS_INGESTION_MAX_REQUEST_BYTES (default 1,000,000), so keep this at or below it. A single record larger than this is dropped and counted.',
  },
  BATCH_MAX_RECORDS: {
    schema: env.int(1, 1_000_000).default(5_000),
    description:
      'Records per batch at most. The byte limit binds first for typical security events (~1–3 KB); this caps fan-out for tiny records.',
    aliases: ['LOG_ANALYTICS_CHUNK_SIZE'],
  },
  MAX_DECOMPRESSED_BYTES: {
    schema: env.int(1_024, Number.MAX_SAFE_INTEGER).default(10 * GIB),
    description: 'Decompressed bytes per object after which it is dead-lettered as DecompressionLimit (gzip bombs).',
    example: String(10 * GIB),
  },
  MAPPINGS_FILE: {
    schema: env.string().optional(),
    description:
      "The mappings.json adx-ingester uses. A source it maps gets its staged batches marked adxReads, so la-uploader leaves their blobs to the staging lifecycle rule instead of deleting them under adx-ingester; with ROUTES_FILE, each route's adx flag is also checked against it at start (a route with adx: true needs an entry of its name, and an entry for a route's source needs adx: true). Set it wherever adx-ingester runs.",
    example: '/etc/logferry/mappings.json',
  },
  TIME_FIELD: {
    schema: z.string().min(1).optional(),
    description:
      "Field (or dotted path) holding the record's event time, copied to TimeGenerated. Unset: @timestamp, timestamp, eventTimestamp, event.created, eventTime in that order. Ignored with ROUTES_FILE (each route has its timeField).",
    example: '@timestamp',
  },
  SOURCE_NAME: {
    schema: z
      .string()
      .regex(SOURCE_NAME, 'must be 1–64 letters, digits, _ or -, starting with a letter or digit')
      .default('Code42'),
    description:
      'Logical source name put on staged batches (mappings.json routing, staged blob prefix). Ignored with ROUTES_FILE (the route names the source).',
  },
  SOURCE_FROM_KEY_PREFIX: {
    schema: env.bool().default(false),
    description:
      "Use the object key's first path segment as the source name instead (keys without '/' use SOURCE_NAME). Characters outside SOURCE_NAME's alphabet become `_`; a segment that still is no source name (`..`) is dead-lettered ForbiddenReference. Ignored with ROUTES_FILE.",
  },
  STAGING_GZIP_LEVEL: {
    schema: env.int(1, 9).default(1),
    description:
      'gzip level of staged blobs, which la-uploader sends as they are (Content-Encoding: gzip); they are short-lived, so the fastest level is the default.',
  },
  STAGING_UPLOAD_CONCURRENCY: {
    schema: env.int(1, 32).default(3),
    description: 'Batch blobs being written at once per object (each holds up to MAX_BATCH_BYTES in memory).',
  },
  PUBLISH_GROUP_SIZE: {
    schema: env.int(1, 100).default(10),
    description: 'Staged-batch messages published per Service Bus send while an object is processed.',
  },
  MAX_RECORD_DEPTH: {
    // Capped well below what JSON.stringify's recursion survives on Node's default stack (several thousand).
    schema: env.int(1, 1_000).default(100),
    description:
      'Nesting levels (objects and arrays) a record may have; a deeper record is skipped and counted (TooDeep) and the rest of the object goes on.',
  },
  MAX_CSV_COLUMNS: {
    schema: env.int(2, 10_000).default(500),
    description:
      'Columns a CSV header may name; a wider document is dead-lettered InvalidDocument, so a hostile header cannot make every row a huge object. The default is what a Log Analytics table holds (500); ADX tables hold up to 10,000 (each column costs memory per record in flight).',
  },
  BAD_RECORD_SAMPLES: {
    schema: env.int(0, 1_000).default(5),
    description: 'Unreadable lines logged per object (with line number); the rest are only counted.',
  },
  S3_REQUEST_TIMEOUT_MS: {
    schema: env.int(1_000, 3_600_000).default(60_000),
    description: 'Socket idle timeout of S3 requests: a stalled download fails and is retried.',
  },
});

export const config = defineConfig(
  's3-fetcher',
  serviceBusVars,
  azureAuthVars,
  storageVars,
  awsVars,
  telemetryVars,
  healthVars,
  consumerVars,
  claimVars,
  localModeVars,
  stagingContainerVars,
  s3FetcherVars,
);
