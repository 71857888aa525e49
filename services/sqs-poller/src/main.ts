// Composition root of sqs-poller: SQS notifications in, `s3-objects` messages out.
import { createS3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { createAwsCredentialProvider, createSqsClient } from '@logferry/shared/auth/aws-clients';
import { createAzureCredential } from '@logferry/shared/auth/azure-credential';
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { config as definition } from '@logferry/shared/config/services/sqs-poller';
import { startHealthServer } from '@logferry/shared/lifecycle/health';
import { runService } from '@logferry/shared/lifecycle/run-service';
import { createLogger } from '@logferry/shared/logging/logger';
import { startTelemetry } from '@logferry/shared/telemetry/start';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { createSqsPoller, type SqsPoller } from './poller.ts';

const service = 'sqs-poller';
const config = loadConfigOrExit(definition);
const logger = createLogger(service, { level: config.LOG_LEVEL });
// An Azure identity is needed only for the namespace or the AWS web identity exchange, not for local connection strings.
const needsAzure = !config.SERVICEBUS_CONNECTION_STRING || Boolean(config.AWS_ROLE_ARN);
const azureCredential = needsAzure ? createAzureCredential(config) : undefined;
const telemetry = startTelemetry({ service, config, logger, ...(azureCredential ? { azureCredential } : {}) });

let poller: SqsPoller | undefined;
const transport = createServiceBusTransport({ connection: serviceBusConnection(), logger, service });
const health = await startHealthServer({
  port: config.HEALTH_PORT,
  logger,
  checks: {
    sqs: async () => poller?.healthy ?? false,
    serviceBus: () => transport.ready(),
  },
});

await runService({
  service,
  logger,
  graceMs: config.SHUTDOWN_GRACE_MS,
  telemetry,
  health,
  async start() {
    const credentials = createAwsCredentialProvider(config, azureCredential, { logger });
    logger.info(
      { awsAuth: config.AWS_ROLE_ARN ? 'web-identity' : 'default-chain', allowedBuckets: config.S3_ALLOWED_BUCKETS },
      'AWS access configured',
    );
    const sqs = createSqsClient(config, credentials);
    poller = createSqsPoller({
      sqs,
      queueUrl: config.SQS_QUEUE_URL,
      publisher: transport,
      allowList: createS3AllowList(config),
      logger,
      pollers: config.SQS_POLLERS,
      visibilityTimeoutSeconds: config.VISIBILITY_TIMEOUT_SECONDS,
    });
    await poller.start();
    const running = poller;
    return {
      async stop(graceMs) {
        await running.stop(graceMs);
        await transport.close();
        sqs.destroy();
      },
    };
  },
});

function serviceBusConnection() {
  if (config.SERVICEBUS_CONNECTION_STRING) return { connectionString: config.SERVICEBUS_CONNECTION_STRING };
  // The config rules require one of the two, and azureCredential exists whenever the connection string does not.
  if (!config.SERVICEBUS_NAMESPACE || !azureCredential) throw new Error('SERVICEBUS_NAMESPACE needs an Azure identity');
  return { fullyQualifiedNamespace: config.SERVICEBUS_NAMESPACE, credential: azureCredential };
}
