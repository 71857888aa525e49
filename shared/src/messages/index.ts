import type { z } from 'zod';
import type { TopicName } from './envelope.ts';
import { IngestRequestMessage } from './ingest-request.ts';
import { IngestionResultMessage } from './ingestion-result.ts';
import { S3ObjectMessage } from './s3-object.ts';
import { StagedBatchMessage } from './staged-batch.ts';

export * from './build.ts';
export * from './envelope.ts';
export * from './object-identity.ts';
export { IngestionResultMessage, IngestRequestMessage, S3ObjectMessage, StagedBatchMessage };

/** The one schema each topic carries. Publishers and consumers both validate against it. */
export const TOPIC_SCHEMAS = {
  's3-objects': S3ObjectMessage,
  'staged-batches': StagedBatchMessage,
  'ingest-requests': IngestRequestMessage,
  'ingestion-results': IngestionResultMessage,
} as const satisfies Record<TopicName, z.ZodType>;

export type MessageOf<T extends TopicName> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;
