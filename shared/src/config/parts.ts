import { z } from 'zod';
import type { TopicName } from '../messages/index.ts';
import type { SubscribeOptions } from '../transport/port.ts';
import { azureAuthVars, dataContainerVars, serviceBusVars, stagingContainerVars, storageVars } from './azure-parts.ts';
import { type ConfigDefinition, type ConfigOf, defineConfig, defineVars, env, type VarSpecs } from './define.ts';

export * from './azure-parts.ts';

/**
 * The parts every service composes with its own variables:
 *   defineConfig('sqs-poller', serviceBusVars, azureAuthVars, telemetryVars, healthVars, ownVars)
 * Pass these objects as they are (not spread): their cross-variable checks travel with the object.
 * The Azure connection parts live in azure-parts.ts and are re-exported here.
 */

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const telemetryVars = defineVars({
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    schema: z
      .string()
      .regex(
        /InstrumentationKey\s*=/i,
        'expected an Application Insights connection string (InstrumentationKey=…;IngestionEndpoint=…)',
      )
      .optional(),
    description: 'Sends traces and metrics to Application Insights when set.',
    secret: true,
  },
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    schema: env.url().optional(),
    description: 'Sends traces and metrics over OTLP/HTTP to this base URL (/v1/traces, /v1/metrics) when set.',
    example: 'http://otel-collector:4318',
  },
  LOG_LEVEL: {
    schema: env.oneOf(...LOG_LEVELS).default('info'),
    description: 'Minimum level of JSON log lines on stdout.',
  },
});

export const healthVars = defineVars({
  HEALTH_PORT: {
    schema: env.port().default(8080),
    description: 'Port of the /livez and /readyz probe server (0 picks a free port).',
  },
  SHUTDOWN_GRACE_MS: {
    schema: env.int(0, 3_600_000).default(25_000),
    description:
      'On SIGTERM, how long in-flight work may finish before it is abandoned; keep it 5 s under the pod terminationGracePeriodSeconds.',
  },
});

export const consumerVars = defineVars(
  {
    CONCURRENCY: {
      schema: env.int(1, 1_000).default(4),
      description: 'Messages handled at once by this replica (memory is bounded by this, not by input size).',
    },
    MAX_ATTEMPTS: {
      schema: env.int(1, 1_000).default(8),
      description: 'Attempts of a transient failure before the message is dead-lettered.',
    },
    RETRY_BASE_MS: {
      schema: env.int(1, 86_400_000).default(1_000),
      description: 'Base of the exponential retry backoff (full jitter).',
    },
    RETRY_MAX_MS: {
      schema: env.int(1, 86_400_000).default(300_000),
      description: 'Cap of the retry backoff.',
    },
    MAX_LOCK_RENEWAL_MS: {
      schema: env.int(0, 86_400_000).default(600_000),
      description: 'How long one message may be worked on with its lock renewed before the lock is let go.',
    },
    BREAKER_THRESHOLD: {
      schema: env.int(1, 1_000).default(5),
      description:
        'Failures in a row blamed on one dependency (ADX, Logs Ingestion, Blob, Tables, S3), whatever the message, that count as its outage: intake pauses, /readyz says not ready, and retries stop using up attempts until it answers again.',
    },
    BREAKER_PAUSE_BASE_MS: {
      schema: env.int(1, 3_600_000).default(5_000),
      description: 'First intake pause of an outage; doubled (with jitter) each time the probe after a pause fails.',
    },
    BREAKER_PAUSE_MAX_MS: {
      schema: env.int(1, 3_600_000).default(120_000),
      description: 'Longest intake pause of an outage: how long a recovered dependency may wait to be noticed.',
    },
  },
  [
    {
      description: 'RETRY_BASE_MS must not exceed RETRY_MAX_MS.',
      check: (c) =>
        typeof c.RETRY_BASE_MS === 'number' && typeof c.RETRY_MAX_MS === 'number' && c.RETRY_BASE_MS > c.RETRY_MAX_MS
          ? ['RETRY_BASE_MS is larger than RETRY_MAX_MS: the backoff base must not exceed its cap.']
          : [],
    },
  ],
);

export const claimVars = defineVars({
  CLAIM_LEASE_MS: {
    schema: env.int(1_000, 3_600_000).default(60_000),
    description:
      'Lease of a work claim (a batch or object being processed; renewed every third of it while the work runs). A second delivery of the same work waits while the claim is held; a claim left by a crashed worker expires after this long.',
  },
});

/** Spreads into Transport.subscribe options. */
export function consumerOptions(
  c: ConfigOf<typeof consumerVars>,
): Pick<SubscribeOptions<TopicName>, 'concurrency' | 'maxAttempts' | 'backoff' | 'maxLockRenewalMs' | 'breaker'> {
  return {
    concurrency: c.CONCURRENCY,
    maxAttempts: c.MAX_ATTEMPTS,
    backoff: { baseMs: c.RETRY_BASE_MS, maxMs: c.RETRY_MAX_MS },
    maxLockRenewalMs: c.MAX_LOCK_RENEWAL_MS,
    breaker: {
      threshold: c.BREAKER_THRESHOLD,
      pauseBaseMs: c.BREAKER_PAUSE_BASE_MS,
      pauseMaxMs: Math.max(c.BREAKER_PAUSE_BASE_MS, c.BREAKER_PAUSE_MAX_MS),
    },
  };
}

export const localModeVars = defineVars({
  LOGFERRY_LOCAL: {
    schema: env.bool().default(false),
    description: 'Local run against the embedded stand-ins (set by `npm start`); never in production.',
  },
});

export type ServiceBusConfig = ConfigOf<typeof serviceBusVars>;
export type AzureAuthConfig = ConfigOf<typeof azureAuthVars>;
export type StorageConfig = ConfigOf<typeof storageVars>;
export type TelemetryConfig = ConfigOf<typeof telemetryVars>;
export type HealthConfig = ConfigOf<typeof healthVars>;
export type ConsumerConfig = ConfigOf<typeof consumerVars>;
export type ClaimConfig = ConfigOf<typeof claimVars>;
export type LocalModeConfig = ConfigOf<typeof localModeVars>;
export type StagingContainerConfig = ConfigOf<typeof stagingContainerVars>;
export type DataContainerConfig = ConfigOf<typeof dataContainerVars>;

/** Each shared part on its own, for the config reference when no service config exists yet. */
export const sharedParts: readonly ConfigDefinition<VarSpecs>[] = [
  defineConfig('shared: Service Bus', serviceBusVars),
  defineConfig('shared: Azure identity', azureAuthVars),
  defineConfig('shared: Azure Storage', storageVars),
  defineConfig('shared: telemetry and logging', telemetryVars),
  defineConfig('shared: health and shutdown', healthVars),
  defineConfig('shared: Service Bus consumer', consumerVars),
  defineConfig('shared: local mode', localModeVars),
  defineConfig('shared: staging container', stagingContainerVars),
  defineConfig('shared: data container', dataContainerVars),
];
