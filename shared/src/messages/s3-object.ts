import { z } from 'zod';
import { envelopeFields, isoTime } from './envelope.ts';

/** One S3 object announced by SQS (or a backfill); published by sqs-poller, consumed by s3-fetcher. */
export const S3ObjectMessage = z.object({
  type: z.literal('s3-object'),
  ...envelopeFields,
  bucket: z.string().min(3).max(63),
  key: z.string().min(1).max(1024),
  size: z.number().int().nonnegative().optional(),
  etag: z.string().max(128).optional(),
  versionId: z.string().max(1024).optional(),
  sequencer: z.string().max(128).optional(),
  eventTime: isoTime.optional(),
  /** Where the announcement came from, for operators reading a dead-letter. */
  origin: z.enum(['s3-notification', 'sns', 'eventbridge', 'backfill']),
});
export type S3ObjectMessage = z.infer<typeof S3ObjectMessage>;
