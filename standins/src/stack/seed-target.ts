import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { BlobServiceClient } from '@azure/storage-blob';
import type { SeedTarget } from '../seed/seed.ts';
import type { LocalEndpoints } from './service-env.ts';

/** Where seedSampleData puts the sample data of a local stack: its bucket, queue and data container. */
export function seedTargetOf(endpoints: LocalEndpoints, clients: { s3: S3Client; sqs: SQSClient }): SeedTarget {
  return {
    ...clients,
    queueUrl: endpoints.sqsQueueUrl,
    bucket: endpoints.bucket,
    region: endpoints.aws.region,
    dataContainer: BlobServiceClient.fromConnectionString(endpoints.storageConnectionString).getContainerClient(
      endpoints.dataContainer,
    ),
  };
}
