import { z } from 'zod';
import { envelopeFields } from './envelope.ts';

/** A blob's final (or retried) ADX status; published by completion-checker, consumed by the page and alerts. */
export const IngestionResultMessage = z.object({
  type: z.literal('ingestion-result'),
  ...envelopeFields,
  container: z.string().min(3).max(63),
  blobName: z.string().min(1).max(1024),
  /** Absent when the blob never reached ADX (skipped, or not queued). */
  sourceId: z.uuid().optional(),
  status: z.enum(['succeeded', 'failed', 'queued', 'unknown', 'skipped']),
  table: z.string().max(256).optional(),
  errorCode: z.string().max(256).optional(),
  failureStatus: z.enum(['Permanent', 'Transient', 'Exhausted']).optional(),
  details: z.string().max(4096).optional(),
});
export type IngestionResultMessage = z.infer<typeof IngestionResultMessage>;
