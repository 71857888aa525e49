import { z } from 'zod';
import { envelopeFields } from './envelope.ts';

/**
 * A batch of records staged as a gzip NDJSON blob (claim check); published by s3-fetcher,
 * consumed by la-uploader and, where mappings.json routes the source, adx-ingester.
 * `id` = batchId, derived from the object identity and batchIndex so reprocessing yields the same ids.
 */
export const StagedBatchMessage = z.object({
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
  /** Uncompressed NDJSON bytes. */
  rawBytes: z.number().int().nonnegative(),
  compressedBytes: z.number().int().nonnegative(),
  /** The logical source name, used by mappings.json routing (e.g. `Code42FileEvents`). */
  source: z.string().min(1).max(256),
});
export type StagedBatchMessage = z.infer<typeof StagedBatchMessage>;
