// Composition root of sqs-poller: SQS notifications in, `s3-objects` messages out.
import { createAwsCredentialProvider, createSqsClient } from '@logferry/shared/auth/aws-clients';
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { config as definition } from '@logferry/shared/config/services/sqs-poller';
import { startHealthServer } from '@logferry/shared/lifecycle/health';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { routeTableOrExit } from '@logferry/shared/routes/index';
import { createSqsPoller, type SqsPoller } from './poller.ts';

const service = 'sqs-poller';
const config = loadConfigOrExit(definition);
// The routes are the allow-list: an object no route claims is refused here, before anyone fetches it.
const routes = routeTableOrExit(service, config);
const { logger, azure, transport, run } = startServiceRuntime(service, config);
let poller: SqsPoller | undefined;
const health = await startHealthServer({
  port: config.HEALTH_PORT,
  logger,
  checks: {
    sqs: async () => poller?.healthy ?? false,
    serviceBus: () => transport.ready(),
  },
});

await run({
  health,
  async start() {
    const credentials = createAwsCredentialProvider(config, config.AWS_ROLE_ARN ? azure() : undefined, { logger });
    logger.info(
      {
        awsAuth: config.AWS_ROLE_ARN ? 'web-identity' : 'default-chain',
        routes: routes.routes.map((r) => ({ name: r.name, match: r.matches.map((m) => m.label) })),
      },
      'AWS access configured',
    );
    const sqs = createSqsClient(config, credentials);
    poller = createSqsPoller({
      sqs,
      queueUrl: config.SQS_QUEUE_URL,
      publisher: transport,
      allowList: routes,
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
