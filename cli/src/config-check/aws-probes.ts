import { HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Probe } from './probe.ts';

// Probes of the AWS side the S3 → Log Analytics flow reads: credentials, the SQS queue, the buckets.

export function sqsProbe(sqs: SQSClient, queueUrl: string): Probe {
  return {
    name: 'SQS queue',
    async run() {
      const r = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: queueUrl,
          AttributeNames: ['ApproximateNumberOfMessages', 'RedrivePolicy'],
        }),
      );
      const waiting = r.Attributes?.ApproximateNumberOfMessages ?? '?';
      const redrive = r.Attributes?.RedrivePolicy
        ? 'with a redrive policy'
        : 'WITHOUT a redrive policy (unreadable bodies will cycle)';
      return `${queueUrl}: ${waiting} waiting, ${redrive}`;
    },
  };
}

export function s3BucketProbe(s3: S3Client, bucket: string): Probe {
  return {
    name: `S3 bucket ${bucket}`,
    async run() {
      await s3.send(new HeadBucketCommand({ Bucket: bucket }));
      return 'reachable (HeadBucket)';
    },
  };
}

export function awsCredentialsProbe(provider: AwsCredentialIdentityProvider, how: string): Probe {
  return {
    name: `AWS credentials (${how})`,
    async run() {
      const c = await provider();
      const expires = c.expiration ? `, expire ${c.expiration.toISOString()}` : '';
      return `obtained (key id ${c.accessKeyId.slice(0, 4)}…${expires})`;
    },
  };
}
