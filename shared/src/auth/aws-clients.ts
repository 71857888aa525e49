import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { SQSClient, type SQSClientConfig } from '@aws-sdk/client-sqs';
import type { AwsCredentialIdentityProvider } from '@smithy/types';

export { createAwsCredentialProvider } from './aws-credentials.ts';

/** Endpoint settings shared by the S3 and SQS clients (a subset of awsVars). */
export interface AwsClientConfig {
  readonly AWS_REGION: string;
  readonly AWS_ENDPOINT_URL?: string | undefined;
  readonly AWS_S3_FORCE_PATH_STYLE?: boolean | undefined;
}

/** An S3 client pointed where configuration says (AWS, a VPC endpoint, or fauxqs with path-style). */
export function createS3Client(
  config: AwsClientConfig,
  credentials: AwsCredentialIdentityProvider,
  overrides: Partial<S3ClientConfig> = {},
): S3Client {
  return new S3Client({
    region: config.AWS_REGION,
    credentials,
    ...(config.AWS_ENDPOINT_URL ? { endpoint: config.AWS_ENDPOINT_URL } : {}),
    forcePathStyle: config.AWS_S3_FORCE_PATH_STYLE ?? false,
    ...overrides,
  });
}

/** An SQS client pointed where configuration says. */
export function createSqsClient(
  config: AwsClientConfig,
  credentials: AwsCredentialIdentityProvider,
  overrides: Partial<SQSClientConfig> = {},
): SQSClient {
  return new SQSClient({
    region: config.AWS_REGION,
    credentials,
    ...(config.AWS_ENDPOINT_URL ? { endpoint: config.AWS_ENDPOINT_URL } : {}),
    ...overrides,
  });
}
