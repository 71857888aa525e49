// Composition root of blob-scanner: scans the data container into `ingest-requests`, serves the status
// page and API, and relays `ingestion-results` to open pages.
import { createRequestAuthenticator } from '@logferry/shared/auth/http-auth';
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { consumerOptions } from '@logferry/shared/config/parts';
import { config as definition } from '@logferry/shared/config/services/blob-scanner';
import { startHealthServer } from '@logferry/shared/lifecycle/health';
import { LeaderLease } from '@logferry/shared/lifecycle/leader-lease';
import { cachedCheck, tableReadable } from '@logferry/shared/lifecycle/readiness';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { scanLeaseBlob } from '@logferry/shared/manifest';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { createStorageClients, ensureStorage } from '@logferry/shared/stores/storage-clients';
import type { Subscription } from '@logferry/shared/transport/port';
import { createLocalSinks } from './http/local-sinks.ts';
import { createStatusServer } from './http/server.ts';
import { CountsFeed } from './live/counts-feed.ts';
import { EventBus } from './live/event-bus.ts';
import { resultsFeedHandler } from './live/results-feed.ts';
import { createPipelineOperations } from './pipeline/operations.ts';
import { ScanRecordStore } from './scan-records.ts';
import { Scanner } from './scanner.ts';
import { startSchedule } from './schedule.ts';

const service = 'blob-scanner';
const config = loadConfigOrExit(definition);
const { logger, azure, transport, run } = startServiceRuntime(service, config);
const { blobs, statusTable } = createStorageClients(config, azure);
const store = new BlobStatusStore(statusTable, {
  defaultMaxAttempts: config.BLOB_MAX_ATTEMPTS,
  claimLeaseMs: config.SCAN_CLAIM_LEASE_MS,
});
let subscription: Subscription | undefined;
const checks = {
  serviceBus: () => transport.ready(),
  statusTable: cachedCheck(tableReadable(statusTable)),
  subscription: async () => subscription?.healthy ?? false,
};
const health = await startHealthServer({ port: config.HEALTH_PORT, logger, checks });

await run({
  health,
  async start() {
    // Fails start (exit 1, with the reason) when no authentication method is configured.
    const auth = createRequestAuthenticator({
      tenantId: config.AUTH_TENANT_ID,
      audience: config.AUTH_AUDIENCE,
      requiredRole: config.AUTH_REQUIRED_ROLE,
      requiredScope: config.AUTH_REQUIRED_SCOPE,
      apiKey: config.STATUS_API_KEY,
      localMode: config.LOGFERRY_LOCAL,
      listenHost: config.HTTP_HOST,
    });
    await ensureStorage(logger, 'the status table', () => store.ensureTable());
    const events = new EventBus();
    const scanner = new Scanner({
      container: blobs.getContainerClient(config.DATA_CONTAINER),
      store,
      scans: new ScanRecordStore(statusTable),
      publisher: transport,
      events,
      logger,
      pageSize: config.SCAN_PAGE_SIZE,
      claimConcurrency: config.SCAN_CLAIM_CONCURRENCY,
      publishBatch: config.SCAN_PUBLISH_BATCH,
      maxAttempts: config.BLOB_MAX_ATTEMPTS,
    });
    subscription = transport.subscribe({
      topic: 'ingestion-results',
      subscription: config.RESULTS_SUBSCRIPTION,
      ...consumerOptions(config),
      handler: resultsFeedHandler({ container: config.DATA_CONTAINER, store, events, logger }),
    });
    const counts = new CountsFeed({
      store,
      events,
      logger,
      container: config.DATA_CONTAINER,
      intervalMs: config.COUNTS_REFRESH_MS,
    });
    counts.start();
    // Only in a local run (the config refuses these variables otherwise): the stand-ins' counts for the page.
    const localSinks = createLocalSinks({
      logsIngestionUrl: config.LOCAL_SINKS_LOGS_INGESTION_URL,
      adxUrl: config.LOCAL_SINKS_ADX_URL,
      logger,
    });
    // The overview, dead letters and S3 objects: counts from Service Bus, rows from the stores.
    const operations = createPipelineOperations({ config, azure, statusTable, events, logger, localSinks });
    operations.start();
    const server = createStatusServer({
      scanner,
      store,
      scans: new ScanRecordStore(statusTable),
      container: config.DATA_CONTAINER,
      events,
      auth,
      logger,
      ready: async () => (await Promise.all(Object.values(checks).map((c) => c().catch(() => false)))).every(Boolean),
      greeting: () => (scanner.latest ? [{ type: 'scan', scan: scanner.latest }] : []),
      ...(localSinks ? { localSinks } : {}),
      pipeline: operations.pipeline,
      objects: operations.objects,
    });
    const address = await server.listen(config.HTTP_PORT, config.HTTP_HOST);
    const lease =
      config.SCAN_SCHEDULE > 0
        ? new LeaderLease({
            container: blobs.getContainerClient(config.SCAN_LEASE_CONTAINER),
            blobName: scanLeaseBlob(config.DATA_CONTAINER),
            logger,
            role: 'scheduled-scan leadership',
            durationSec: config.SCAN_LEASE_DURATION_S,
          })
        : undefined;
    lease?.start();
    const schedule = startSchedule({
      intervalMs: config.SCAN_SCHEDULE,
      scanner,
      isLeader: () => lease?.held ?? false,
      logger,
    });
    logger.info(
      {
        port: address.port,
        host: address.address,
        auth: auth.methods,
        container: config.DATA_CONTAINER,
        scheduleMs: config.SCAN_SCHEDULE,
        localSinks: localSinks !== undefined,
      },
      'status page and API listening',
    );
    return {
      async stop(graceMs) {
        schedule.stop();
        // Pages reconnect to another replica; a running scan finishes its page and publishes its claims.
        await server.close(Math.min(graceMs, 5_000));
        await scanner.stop();
        counts.stop();
        await operations.close();
        await lease?.stop();
        await subscription?.stop(graceMs);
        await transport.close();
      },
    };
  },
});
