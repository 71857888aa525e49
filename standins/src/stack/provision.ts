import { CreateBucketCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';

export interface AwsResources {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly bucket: string;
}

/**
 * The notification queue with a dead-letter queue behind it (sqs-poller leaves bodies it cannot read to
 * the redrive policy, and warns at start when there is none), and the bucket. Idempotent.
 */
export async function provisionAws(
  sqs: SQSClient,
  s3: S3Client,
  names: { queue: string; bucket: string; maxReceiveCount?: number },
): Promise<AwsResources> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${names.queue}-dlq` }));
  const dlqUrl = dlq.QueueUrl ?? '';
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const dlqArn = attrs.Attributes?.QueueArn ?? '';
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: names.queue,
      Attributes: {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: String(names.maxReceiveCount ?? 5),
        }),
      },
    }),
  );
  const exists = await s3.send(new HeadBucketCommand({ Bucket: names.bucket })).then(
    () => true,
    () => false,
  );
  if (!exists) await s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  return { queueUrl: queue.QueueUrl ?? '', deadLetterQueueUrl: dlqUrl, bucket: names.bucket };
}

/** Containers the flows use and the shared status table. Idempotent. */
export async function provisionStorage(
  connectionString: string,
  names: { containers: readonly string[]; statusTable: string },
): Promise<void> {
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  await Promise.all(names.containers.map((c) => blobs.getContainerClient(c).createIfNotExists()));
  const table = TableClient.fromConnectionString(connectionString, names.statusTable, {
    allowInsecureConnection: /^DefaultEndpointsProtocol=http;|=http:\/\//i.test(connectionString),
  });
  await table.createTable();
}
