// Composition root of la-uploader: `staged-batches` messages in, records to the Logs Ingestion API.
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { consumerOptions } from '@logferry/shared/config/parts';
import { config as definition, resolveStream } from '@logferry/shared/config/services/la-uploader';
import { runConsumerService } from '@logferry/shared/lifecycle/consumer-service';
import { containerReadable } from '@logferry/shared/lifecycle/readiness';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { checkStagedBatchReference, guardReferences } from '@logferry/shared/messages/references';
import { BatchClaims } from '@logferry/shared/stores/batch-claim';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { DEFAULT_STAGING_CONTAINER } from '@logferry/shared/stores/staging';
import { createStorageClients, ensureStorage } from '@logferry/shared/stores/storage-clients';
import { claimOwner } from '@logferry/shared/stores/work-claim';
import { stageMetrics } from '@logferry/shared/telemetry/metrics';
import { createStagedBatchHandler, uploaderStageMetrics } from './handle-staged-batch.ts';
import { localStandInCredential } from './local-credential.ts';
import { createLogsIngestionClients } from './logs-ingestion-clients.ts';
import { createStagedBatchSource } from './staged-batch-reader.ts';
import { createStagedBlobDeleter } from './staged-blob-deleter.ts';

const service = 'la-uploader';
const config = loadConfigOrExit(definition);
const runtime = startServiceRuntime(service, config);
const { logger, azure, transport } = runtime;
const stream = resolveStream(config);
const { blobs, statusTable } = createStorageClients(config, azure);

await runConsumerService(runtime, {
  port: config.HEALTH_PORT,
  statusTable,
  // Each message names its container and la-uploader has no setting for it: the default name is checked, and
  // a 404 still proves the blob service answers this identity (s3-fetcher may stage elsewhere).
  stagingContainer: containerReadable(blobs.getContainerClient(DEFAULT_STAGING_CONTAINER), { missingIsReady: true }),
  async start() {
    const status = new BatchStatusStore(statusTable);
    await ensureStorage(logger, 'the status table', () => status.ensureTable());
    const sinkCredential = localStandInCredential(config.LOGFERRY_LOCAL, config.LOGS_INGESTION_ENDPOINT) ?? azure();
    const clients = createLogsIngestionClients({
      endpoint: config.LOGS_INGESTION_ENDPOINT,
      ruleId: config.DCR_IMMUTABLE_ID,
      stream,
      credential: sinkCredential,
      audience: config.LOGS_INGESTION_AUDIENCE,
      timeoutMs: config.LOGS_INGESTION_TIMEOUT_MS,
    });
    logger.info(
      { url: clients.default.url, retention: config.STAGING_RETENTION },
      'uploading to the Logs Ingestion API (batches whose route names a stream go to that stream)',
    );
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: config.STAGING_DELETE_DELAY_MS });
    const metrics = stageMetrics(service);
    const consumer = consumerOptions(config);
    const subscription = transport.subscribe({
      topic: 'staged-batches',
      subscription: service,
      ...consumer,
      dependencies: ['logs-ingestion', 'blob', 'tables'],
      handler: guardReferences(
        createStagedBatchHandler({
          claims: new BatchClaims(statusTable, { leaseMs: config.CLAIM_LEASE_MS, owner: claimOwner(service) }),
          staging: createStagedBatchSource(blobs, config.MAX_STAGED_BATCH_BYTES),
          deleter,
          client: clients.default,
          stream,
          clientFor: (destination) => clients.for(destination),
          retention: config.STAGING_RETENTION,
          policy: {
            maxRequestBytes: config.LOGS_INGESTION_MAX_REQUEST_BYTES,
            inlineRetryMs: Math.min(config.UPLOAD_INLINE_RETRY_MS, config.MAX_LOCK_RENEWAL_MS),
            backoff: consumer.backoff,
          },
          logger,
          metrics: uploaderStageMetrics(metrics),
        }),
        {
          check: (m) => checkStagedBatchReference(m, config.STAGING_CONTAINER),
          describe: (m) => `${m.blobContainer}/${m.blobName}`,
          logger,
          onForbidden: (reason) => metrics.failure(reason),
        },
      ),
    });
    return {
      subscription,
      // After the last delivery: what the deleter still holds goes before the process does.
      close: async () => {
        await deleter.close();
        clients.close();
      },
    };
  },
});
