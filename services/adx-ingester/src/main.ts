// Composition root of adx-ingester: `ingest-requests` (and routed `staged-batches`) → ADX queued ingestion.
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { consumerOptions } from '@logferry/shared/config/parts';
import { config as definition, ingestUri } from '@logferry/shared/config/services/adx-ingester';
import { startHealthServer } from '@logferry/shared/lifecycle/health';
import { cachedCheck, dependencyHealth, tableReadable } from '@logferry/shared/lifecycle/readiness';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { loadMappingsOrExit } from '@logferry/shared/mappings/index';
import {
  checkIngestRequestReference,
  checkStagedBatchReference,
  guardReferences,
} from '@logferry/shared/messages/references';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { createStorageClients, ensureStorage } from '@logferry/shared/stores/storage-clients';
import { stageMetrics } from '@logferry/shared/telemetry/metrics';
import type { Subscription } from '@logferry/shared/transport/port';
import { createBlobUrlFor } from './blob-url.ts';
import { createIngestRequestHandler } from './handle-ingest-request.ts';
import { createStagedBatchHandler } from './handle-staged-batch.ts';
import { createKustoIngestor } from './kusto-ingestor.ts';

const service = 'adx-ingester';
const config = loadConfigOrExit(definition);
const mappings = loadMappingsOrExit(service, config.MAPPINGS_FILE);
const { logger, azure, transport, run } = startServiceRuntime(service, config);
const { blobs, statusTable } = createStorageClients(config, azure);
const store = new BlobStatusStore(statusTable, { defaultMaxAttempts: config.BLOB_MAX_ATTEMPTS });
const subscriptions: Subscription[] = [];
const dependencies = dependencyHealth(() => subscriptions);
const checks = {
  dependencies: dependencies.check,
  serviceBus: () => transport.ready(),
  statusTable: cachedCheck(tableReadable(statusTable)),
  subscriptions: async () => subscriptions.length > 0 && subscriptions.every((s) => s.healthy),
};
const health = await startHealthServer({ port: config.HEALTH_PORT, logger, checks, details: dependencies.details });

await run({
  health,
  async start() {
    await ensureStorage(logger, 'the status table', () => store.ensureTable());
    const ingestor = createKustoIngestor({
      ingestUri: ingestUri(config),
      database: config.KUSTO_DATABASE,
      auth: config.KUSTO_AUTH === 'none' ? { kind: 'none' } : { kind: 'azure', credential: azure() },
      reportLevel: config.REPORT_LEVEL,
    });
    const hasAccountKey = /AccountKey\s*=/i.test(config.STORAGE_CONNECTION_STRING ?? '');
    const urlMode =
      config.BLOB_URL_AUTH === 'auto' ? (hasAccountKey ? 'sas' : 'managed-identity') : config.BLOB_URL_AUTH;
    const blobUrlFor = createBlobUrlFor({
      blobService: blobs,
      mode: urlMode,
      hasAccountKey,
      identity: config.ADX_BLOB_IDENTITY,
      sasTtlMs: config.BLOB_SAS_TTL_MS,
    });
    const metrics = stageMetrics(service);
    const deps = {
      store,
      ingestor,
      blobUrlFor,
      publisher: transport,
      logger,
      mappings,
      maxAttempts: config.BLOB_MAX_ATTEMPTS,
      repostAfterMs: config.REPOST_AFTER_MS,
    };
    subscriptions.push(
      transport.subscribe({
        topic: 'ingest-requests',
        subscription: config.INGEST_REQUESTS_SUBSCRIPTION,
        ...consumerOptions(config),
        dependencies: ['adx', 'blob', 'tables'],
        handler: guardReferences(createIngestRequestHandler(deps), {
          check: (m) => checkIngestRequestReference(m, config.DATA_CONTAINER),
          describe: (m) => `${m.container}/${m.blobName}`,
          logger,
          onForbidden: (reason) => metrics.failure(reason),
        }),
      }),
    );
    if (config.STAGED_BATCHES_SUBSCRIPTION !== 'off') {
      subscriptions.push(
        transport.subscribe({
          topic: 'staged-batches',
          subscription: config.STAGED_BATCHES_SUBSCRIPTION,
          ...consumerOptions(config),
          dependencies: ['adx', 'blob', 'tables'],
          handler: guardReferences(
            createStagedBatchHandler({ ...deps, container: (name) => blobs.getContainerClient(name) }),
            {
              check: (m) => checkStagedBatchReference(m, config.STAGING_CONTAINER),
              describe: (m) => `${m.blobContainer}/${m.blobName}`,
              logger,
              onForbidden: (reason) => metrics.failure(reason),
            },
          ),
        }),
      );
    }
    logger.info(
      {
        database: config.KUSTO_DATABASE,
        mappings: [...mappings.keys()],
        blobUrl: urlMode,
        reportLevel: config.REPORT_LEVEL,
      },
      'consuming ingest requests',
    );
    return {
      async stop(graceMs) {
        await Promise.all(subscriptions.map((s) => s.stop(graceMs)));
        ingestor.close();
        await transport.close();
      },
    };
  },
});
