import { z } from 'zod';
import { envelopeFields } from './envelope.ts';

/** A blob to ingest into ADX; published by blob-scanner (and the CLI), consumed by adx-ingester. */
export const IngestRequestMessage = z.object({
  type: z.literal('ingest-request'),
  ...envelopeFields,
  container: z.string().min(3).max(63),
  blobName: z.string().min(1).max(1024),
  etag: z.string().min(1).max(128),
  size: z.number().int().positive(),
  /** Attempt number for this blob version (1-based), kept in the status row too. */
  attempt: z.number().int().positive(),
  scanId: z.string().max(128).optional(),
});
export type IngestRequestMessage = z.infer<typeof IngestRequestMessage>;
