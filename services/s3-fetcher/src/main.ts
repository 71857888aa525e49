// Composition root of s3-fetcher: `s3-objects` messages in, staged batch blobs and `staged-batches` messages out.
import { createAwsCredentialProvider, createS3Client } from '@logferry/shared/auth/aws-clients';
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { consumerOptions } from '@logferry/shared/config/parts';
import { config as definition } from '@logferry/shared/config/services/s3-fetcher';
import { runConsumerService } from '@logferry/shared/lifecycle/consumer-service';
import { containerReadable } from '@logferry/shared/lifecycle/readiness';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { loadMappingsOrExit, mappingForSource } from '@logferry/shared/mappings/index';
import { routeTableOrExit } from '@logferry/shared/routes/index';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { createStorageClients, ensureStorage } from '@logferry/shared/stores/storage-clients';
import { claimOwner, WorkClaims } from '@logferry/shared/stores/work-claim';
import { stageMetrics } from '@logferry/shared/telemetry/metrics';
import { createFetchObjectHandler } from './fetch-object.ts';
import { sourceOf } from './source-of.ts';

const service = 's3-fetcher';
const config = loadConfigOrExit(definition);
const mappings = config.MAPPINGS_FILE === undefined ? undefined : loadMappingsOrExit(service, config.MAPPINGS_FILE);
const routes = routeTableOrExit(service, config, {
  sourceOf: (key) => sourceOf(key, config.SOURCE_NAME, config.SOURCE_FROM_KEY_PREFIX),
  ...(mappings ? { mappings } : {}),
});
const runtime = startServiceRuntime(service, config);
const { logger, azure, transport } = runtime;
const { blobs, statusTable } = createStorageClients(config, azure);

await runConsumerService(runtime, {
  port: config.HEALTH_PORT,
  statusTable,
  stagingContainer: containerReadable(blobs.getContainerClient(config.STAGING_CONTAINER)),
  async start() {
    const container = blobs.getContainerClient(config.STAGING_CONTAINER);
    const status = new ObjectStatusStore(statusTable);
    await ensureStorage(
      logger,
      'the staging container and status table',
      () => container.createIfNotExists(),
      () => status.ensureTable(),
    );
    const credentials = createAwsCredentialProvider(config, config.AWS_ROLE_ARN ? azure() : undefined, { logger });
    const s3 = createS3Client(config, credentials, {
      // The socket idle timeout catches a download that stalls mid-object; the retry starts it again.
      // Plain handler options: the SDK builds its NodeHttpHandler from them, so no @smithy import is needed.
      requestHandler: { connectionTimeout: 10_000, requestTimeout: config.S3_REQUEST_TIMEOUT_MS },
    });
    logger.info(
      {
        awsAuth: config.AWS_ROLE_ARN ? 'web-identity' : 'default-chain',
        stagingContainer: config.STAGING_CONTAINER,
        concurrency: config.CONCURRENCY,
        maxBatchBytes: config.MAX_BATCH_BYTES,
        maxBatchRecords: config.BATCH_MAX_RECORDS,
        routes: routes.routes.map((r) => ({
          name: r.name,
          match: r.matches.map((m) => m.label),
          format: r.format,
          stream: r.logsIngestion?.stream,
          adx: r.adx,
        })),
      },
      'fetching S3 objects into staged batches',
    );
    const subscription = transport.subscribe({
      topic: 's3-objects',
      subscription: config.SUBSCRIPTION,
      ...consumerOptions(config),
      dependencies: ['s3', 'blob', 'tables'],
      handler: createFetchObjectHandler({
        s3,
        container,
        status,
        claims: new WorkClaims(statusTable, {
          scope: 's3obj',
          leaseMs: config.CLAIM_LEASE_MS,
          owner: claimOwner(service),
        }),
        publisher: transport,
        logger,
        metrics: stageMetrics(service),
        routes,
        ...(mappings ? { adxReadsSource: (source: string) => mappingForSource(mappings, source) !== undefined } : {}),
        settings: {
          maxDecompressedBytes: config.MAX_DECOMPRESSED_BYTES,
          maxBatchBytes: config.MAX_BATCH_BYTES,
          maxBatchRecords: config.BATCH_MAX_RECORDS,
          gzipLevel: config.STAGING_GZIP_LEVEL,
          uploadConcurrency: config.STAGING_UPLOAD_CONCURRENCY,
          publishGroupSize: config.PUBLISH_GROUP_SIZE,
          badRecordSamples: config.BAD_RECORD_SAMPLES,
          maxRecordDepth: config.MAX_RECORD_DEPTH,
          maxCsvColumns: config.MAX_CSV_COLUMNS,
        },
      }),
    });
    return { subscription, close: () => s3.destroy() };
  },
});
