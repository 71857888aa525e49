import { createAwsCredentialProvider, createS3Client } from '@logferry/shared/auth/aws-clients';
import { createOperatorCredential } from '@logferry/shared/auth/azure-credential';
import { awsVars } from '@logferry/shared/config/aws-parts';
import { defineConfig, parseConfig } from '@logferry/shared/config/define';
import { azureAuthVars, serviceBusVars } from '@logferry/shared/config/parts';
import { createLogger } from '@logferry/shared/logging/logger';
import { RoutesError, type RouteTable, routeTableFor } from '@logferry/shared/routes/index';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { EXIT } from '../help.ts';
import { operatorEnv } from '../local/state.ts';
import { type BackfillOptions, backfill } from './backfill.ts';
import { Progress, rate, seconds } from './progress.ts';

/** What the command line asks for; the allow-list and the progress output are wired here. */
export type BackfillRequest = Pick<
  BackfillOptions,
  'bucket' | 'prefix' | 'since' | 'until' | 'dryRun' | 'batchSize' | 'progressEvery'
>;

/** Wires configuration, clients and the transport around backfill(); returns the exit code. */
export async function runBackfill(request: BackfillRequest): Promise<number> {
  const { bucket, prefix, since, until, dryRun, batchSize, progressEvery } = request;
  const env = await operatorEnv('s3-fetcher', ['SERVICEBUS_CONNECTION_STRING', 'SERVICEBUS_NAMESPACE', 'AWS_REGION']);
  const config = parseConfig(defineConfig('logferry backfill', serviceBusVars, azureAuthVars, awsVars), env);
  // s3-fetcher's own allow-list (its routes), so nothing is published that it would refuse.
  let allowList: RouteTable;
  try {
    allowList = routeTableFor(config);
  } catch (err) {
    if (!(err instanceof RoutesError)) throw err;
    console.error(`logferry backfill: ${err.message}`);
    return EXIT.failure;
  }
  const buckets = [...new Set(allowList.routes.flatMap((route) => route.matches.map((m) => m.bucket)))];
  if (!buckets.includes(bucket)) {
    console.error(
      `logferry backfill: bucket ${bucket} is not in S3_ALLOWED_BUCKETS / ROUTES_FILE (${buckets.join(', ')}).`,
    );
    return EXIT.failure;
  }
  const needsAzure = !config.SERVICEBUS_CONNECTION_STRING || Boolean(config.AWS_ROLE_ARN);
  const azure = needsAzure ? createOperatorCredential(config) : undefined;
  // The local stack's keys live in its env record, not in process.env where the default chain would look.
  const keys = { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' };
  const credentials =
    !config.AWS_ROLE_ARN && keys.accessKeyId && keys.secretAccessKey
      ? async () => keys
      : createAwsCredentialProvider(config, azure);
  const s3 = createS3Client(config, credentials);
  const transport = dryRun
    ? undefined
    : createServiceBusTransport({
        connection: config.SERVICEBUS_CONNECTION_STRING
          ? { connectionString: config.SERVICEBUS_CONNECTION_STRING }
          : {
              fullyQualifiedNamespace: config.SERVICEBUS_NAMESPACE ?? '',
              credential: azure ?? createOperatorCredential(config),
            },
        logger: createLogger('cli', { level: 'warn', destination: process.stderr }),
        service: 'cli',
      });
  const progress = new Progress(0);
  try {
    const s = await backfill(s3, transport ?? { publish: async () => {} }, {
      bucket,
      prefix,
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      dryRun,
      batchSize,
      progressEvery,
      allowList,
      onProgress: (p) =>
        progress.update(
          `  listed ${p.listed}, matched ${p.matched}, published ${p.published} (${rate(p.listed, progress.elapsedMs)} listed)`,
        ),
      ...(dryRun
        ? {
            onObject: (key: string, size: number, lm: Date | undefined) =>
              console.log(`  would publish s3://${bucket}/${key}  ${size} bytes  ${lm?.toISOString() ?? ''}`),
          }
        : {}),
    });
    const verb = dryRun ? 'would publish' : 'published';
    console.log(
      `Backfill of s3://${bucket}/${prefix} ${s.error ? 'stopped' : 'done'} in ${seconds(progress.elapsedMs)}: listed ${s.listed}, ` +
        `${verb} ${dryRun ? s.matched : s.published}, outside the time window ${s.skipped}, refused by the allow-list ${s.refused}` +
        (s.error ? `; failed: ${s.error}` : '.'),
    );
    if (!s.error) return EXIT.ok;
    return s.published > 0 ? EXIT.partial : EXIT.failure;
  } finally {
    await transport?.close();
    s3.destroy();
  }
}
