import { z } from 'zod';
import { defineVars, env } from './define.ts';

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
// Bucket names as S3 allows them today (3–63 lowercase letters, digits, dots, hyphens).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * AWS settings shared by the AWS-facing services (sqs-poller, s3-fetcher): where AWS is, how we
 * authenticate (web identity from an Azure token, or the standard AWS chain), and which buckets
 * we may read at all.
 */
export const awsVars = defineVars(
  {
    AWS_REGION: {
      schema: env.string(),
      description: 'AWS region of the SQS queue and the S3 buckets.',
      aliases: ['AWS_DEFAULT_REGION'],
      example: 'us-east-1',
    },
    AWS_ROLE_ARN: {
      schema: z.string().regex(ROLE_ARN, 'must look like arn:aws:iam::123456789012:role/name').optional(),
      description:
        'IAM role assumed with STS AssumeRoleWithWebIdentity using an Azure (workload/managed identity) token. ' +
        'Unset: the standard AWS credential chain (env keys, profile, container/instance metadata).',
      example: 'arn:aws:iam::123456789012:role/logferry-reader',
    },
    AWS_WEB_IDENTITY_AUDIENCE: {
      schema: env.string().default('api://AzureADTokenExchange'),
      description:
        "Audience (app ID URI) of the Azure token exchanged for AWS credentials; must match the IAM OIDC provider's audience.",
      example: 'api://AzureADTokenExchange',
    },
    AWS_ROLE_SESSION_NAME: {
      schema: z
        .string()
        .regex(SESSION_NAME, 'must be 2-64 characters of letters, digits and =,.@_-')
        .default('logferry'),
      description: 'Session name of the assumed role (shows in CloudTrail).',
    },
    AWS_ROLE_SESSION_DURATION_SECONDS: {
      schema: env.int(900, 43_200).default(3600),
      description: "Lifetime requested for assumed-role credentials (at most the role's maximum session duration).",
    },
    AWS_ENDPOINT_URL: {
      schema: env.url().optional(),
      description: 'Endpoint override for SQS and S3 (a local fauxqs, a VPC endpoint). Unset: the AWS endpoints.',
      example: 'http://127.0.0.1:4566',
    },
    AWS_ENDPOINT_URL_STS: {
      schema: env.url().optional(),
      description: 'Endpoint override for STS (a regional endpoint, or the local STS stand-in).',
      example: 'https://sts.us-east-1.amazonaws.com',
    },
    AWS_S3_FORCE_PATH_STYLE: {
      schema: env.bool().default(false),
      description:
        'Address S3 as endpoint/bucket/key instead of bucket.endpoint/key (needed by fauxqs and most local S3s).',
    },
    S3_ALLOWED_BUCKETS: {
      schema: env
        .list()
        .refine((l) => l.every((b) => BUCKET.test(b)), 'each entry must be a valid S3 bucket name')
        .default([]),
      description:
        'Comma-separated buckets the services may read. Notifications for any other bucket are refused ' +
        '(someone who can write to the queue must not make us read other buckets). Required unless ROUTES_FILE ' +
        'is set; with ROUTES_FILE it narrows the routes further.',
      aliases: ['C42_bucket_name'],
      example: 'my-code42-logs',
    },
    S3_ALLOWED_PREFIXES: {
      schema: env.list().default([]),
      description:
        'Comma-separated key prefixes the services may read within the allowed buckets. Unset: any key. A blank entry (`","`) is an error, not "any key".',
      example: 'incydr/,audit/',
    },
    ROUTES_FILE: {
      schema: env.string().optional(),
      description:
        'The routes file (routes.json): which bucket and key prefix (or glob) is which source, its format, time field ' +
        'and Logs Ingestion stream. It is the allow-list: an object no route claims is refused. Unset: one route from ' +
        'S3_ALLOWED_BUCKETS / S3_ALLOWED_PREFIXES and the single-source variables.',
      example: '/etc/logferry/routes.json',
    },
  },
  [
    {
      description: 'Set S3_ALLOWED_BUCKETS or ROUTES_FILE: the buckets the services may read.',
      check: (c) =>
        (c.S3_ALLOWED_BUCKETS as readonly string[]).length > 0 || c.ROUTES_FILE !== undefined
          ? []
          : [
              'S3_ALLOWED_BUCKETS (alias C42_bucket_name) must name at least one bucket, or ROUTES_FILE must be set: the buckets the services may read.',
            ],
    },
  ],
);
