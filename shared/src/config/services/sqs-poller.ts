import { z } from 'zod';
import { awsVars } from '../aws-parts.ts';
import { defineConfig, defineVars, env } from '../define.ts';
import { azureAuthVars, healthVars, localModeVars, serviceBusVars, telemetryVars } from '../parts.ts';

export const sqsPollerVars = defineVars({
  SQS_QUEUE_URL: {
    // Not a URL parse: local SQS servers hand out URLs such as http://sqs.us-east-1.127.0.0.1:4566/000000000000/q,
    // which WHATWG URL rejects (a host ending in digits must be IPv4), yet the SDK only sends it as a parameter.
    schema: z.string().regex(/^https?:\/\/[^\s/?#]+\/[^\s?#]+$/, 'must be an http(s) queue URL'),
    description: 'URL of the SQS queue receiving the S3 event notifications (direct, SNS-wrapped or EventBridge).',
    aliases: ['C42_SQS_QUEUE_URL'],
    example: 'https://sqs.us-east-1.amazonaws.com/123456789012/code42-logs',
  },
  SQS_POLLERS: {
    schema: env.int(1, 64).default(2),
    description: 'Concurrent long-poll loops (each receives up to 10 messages per 20 s poll).',
  },
  VISIBILITY_TIMEOUT_SECONDS: {
    schema: env.int(1, 43_200).default(360),
    description:
      'Visibility timeout requested on receive; a heartbeat extends it every third of this while a message is in progress (never past 12 h).',
  },
});

export const config = defineConfig(
  'sqs-poller',
  serviceBusVars,
  azureAuthVars,
  awsVars,
  telemetryVars,
  healthVars,
  localModeVars,
  sqsPollerVars,
);
