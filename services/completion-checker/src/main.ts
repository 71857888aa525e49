// Composition root of completion-checker: ADX status reports → status rows → `ingestion-results`,
// and rows that hear nothing → `unknown` and queued again. One active reader: the holder of a blob lease
// (the chart runs one replica; the lease keeps a surge pod or a second replica idle).
import { loadConfigOrExit } from '@logferry/shared/config/load';
import { ingestUri } from '@logferry/shared/config/services/adx-ingester';
import { config as definition } from '@logferry/shared/config/services/completion-checker';
import { startHealthServer } from '@logferry/shared/lifecycle/health';
import { LeaderLease } from '@logferry/shared/lifecycle/leader-lease';
import { cachedCheck, tableReadable } from '@logferry/shared/lifecycle/readiness';
import { startServiceRuntime } from '@logferry/shared/lifecycle/service-runtime';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { createStorageClients, ensureStorage } from '@logferry/shared/stores/storage-clients';
import { CompletionChecker } from './checker.ts';
import { ReportReader } from './report-reader.ts';
import { StaleSweeper } from './stale-sweeper.ts';
import { StatusQueueProvider } from './status-queues.ts';

const service = 'completion-checker';
const config = loadConfigOrExit(definition);
const { logger, azure, transport, run } = startServiceRuntime(service, config);
const { blobs, statusTable } = createStorageClients(config, azure);
const store = new BlobStatusStore(statusTable);
const queues = new StatusQueueProvider({
  ingestUri: ingestUri(config),
  auth: config.KUSTO_AUTH === 'none' ? { kind: 'none' } : { kind: 'azure', credential: azure() },
  refreshMs: config.RESOURCES_REFRESH_MS,
});
const lease = new LeaderLease({
  container: blobs.getContainerClient(config.LEASE_CONTAINER),
  blobName: config.LEASE_BLOB,
  logger,
  role: 'the status-queue reader lease',
  durationSec: config.LEASE_DURATION_S,
});
let checker: CompletionChecker | undefined;
const checks = {
  serviceBus: () => transport.ready(),
  statusTable: cachedCheck(tableReadable(statusTable)),
  // An idle standby is ready (it takes over when the lease frees); the holder must be able to read the queues.
  statusQueues: async () => !lease.held || (checker?.healthy ?? false),
};
const health = await startHealthServer({ port: config.HEALTH_PORT, logger, checks });

await run({
  health,
  async start() {
    await ensureStorage(logger, 'the status table', () => store.ensureTable());
    const reader = new ReportReader({
      store,
      publisher: transport,
      logger,
      queues: () => queues.get(),
      batchSize: config.STATUS_BATCH_SIZE,
      visibilityTimeoutS: config.STATUS_VISIBILITY_TIMEOUT_S,
      foreignReports: config.FOREIGN_REPORTS,
      foreignHideS: config.FOREIGN_REPORT_HIDE_S,
    });
    const sweeper = new StaleSweeper({
      store,
      publisher: transport,
      logger,
      staleAfterMs: config.STALE_AFTER_MS,
      limit: config.STALE_BATCH_LIMIT,
      maxRescues: config.MAX_TIMEOUT_RESCUES,
      reportLevel: config.REPORT_LEVEL,
    });
    lease.start();
    await lease.settled();
    checker = new CompletionChecker({
      reader,
      sweeper,
      lease,
      pollIntervalMs: config.STATUS_POLL_INTERVAL_MS,
      staleCheckIntervalMs: config.STALE_CHECK_INTERVAL_MS,
      logger,
      onPollError: () => queues.invalidate(),
    });
    checker.start();
    logger.info(
      { reader: lease.held, staleAfterMs: config.STALE_AFTER_MS, reportLevel: config.REPORT_LEVEL },
      lease.held ? 'reading ADX status queues' : 'standing by: another instance holds the reader lease',
    );
    return {
      async stop() {
        // The current report finishes (its row saved, then deleted); unread ones stay on the queue.
        await checker?.stop();
        await lease.stop();
        queues.close();
        await transport.close();
      },
    };
  },
});
