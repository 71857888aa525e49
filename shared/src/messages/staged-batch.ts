import { z } from 'zod';
import { LogsIngestionDestinationSchema } from '../routes/route-schema.ts';
import { envelopeFields } from './envelope.ts';
import { SOURCE_NAME } from './source-name.ts';

const batchFields = {
  type: z.literal('staged-batch'),
  ...envelopeFields,
  /** `bucket/key@versionId-or-etag` */
  objectId: z.string().min(1).max(2048),
  batchIndex: z.number().int().nonnegative(),
  /** True on the object's last batch, so consumers can tell an object is complete. */
  lastBatch: z.boolean(),
  blobContainer: z.string().min(3).max(63),
  blobName: z.string().min(1).max(1024),
  recordCount: z.number().int().nonnegative(),
  /** Uncompressed bytes of the staged blob. */
  rawBytes: z.number().int().nonnegative(),
  compressedBytes: z.number().int().nonnegative(),
  /** The logical source name, used by mappings.json routing (e.g. `Code42FileEvents`). */
  source: z.string().regex(SOURCE_NAME, 'must be a source name (letters, digits, _ and -)'),
  /**
   * Where la-uploader posts the batch, from the object's route (routes.json). Absent: la-uploader's own
   * DCR_STREAM and DCR_IMMUTABLE_ID (one-source deployments, and batches staged before routes existed).
   * `false`: the route sends this source to ADX only; la-uploader leaves the batch alone.
   */
  logsIngestion: z.union([z.literal(false), LogsIngestionDestinationSchema]).optional(),
  /**
   * True when adx-ingester reads this staged blob too (its route has `adx: true`, or mappings.json maps the
   * source), so la-uploader leaves deleting it to the staging lifecycle rule. Set by s3-fetcher, which knows
   * the routing; absent means la-uploader is its only reader.
   */
  adxReads: z.literal(true).optional(),
};

/** Version 1 (still read while such messages may be in flight): the blob is gzip NDJSON, one record per line. */
export const StagedBatchMessageV1 = z.object({ ...batchFields, schemaVersion: z.literal(1) });

/**
 * Version 2: the blob is the Logs Ingestion request body itself, a gzip JSON array (`[r0,r1,…]`, records
 * separated by one comma, no whitespace), so la-uploader can send it without opening it. `recordLengths`
 * gives each record's byte length in that array (base64 of unsigned LEB128 varints, see
 * stores/record-lengths.ts): record i starts after the `[` and the i records and commas before it. That is
 * all la-uploader needs to split a batch (413, resume) without parsing it. A 1 MB batch of records of at
 * least ~60 bytes needs at most ~45 KB here, well under Service Bus's 256 KB.
 */
export const StagedBatchMessageV2 = z.object({
  ...batchFields,
  schemaVersion: z.literal(2),
  recordLengths: z
    .string()
    .max(160_000)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64'),
});

/**
 * A batch of records staged as a blob (claim check); published by s3-fetcher, consumed by la-uploader and,
 * where mappings.json routes the source, adx-ingester.
 * `id` = batchId, derived from the object identity and batchIndex so reprocessing yields the same ids.
 */
export const StagedBatchMessage = z.discriminatedUnion('schemaVersion', [StagedBatchMessageV1, StagedBatchMessageV2]);
export type StagedBatchMessage = z.infer<typeof StagedBatchMessage>;
export type StagedBatchMessageV1 = z.infer<typeof StagedBatchMessageV1>;
export type StagedBatchMessageV2 = z.infer<typeof StagedBatchMessageV2>;
