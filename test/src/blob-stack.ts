// The Blob → ADX flow as a user runs it: the local stack's stand-ins (Azurite, Service Bus, ADX) and
// blob-scanner, adx-ingester and completion-checker as separate processes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobLeaseClient, BlobServiceClient, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import {
  freePort,
  type LocalStack,
  REPO_ROOT,
  type ServiceProcess,
  type StackService,
  startLocalStack,
  startServiceProcess,
} from '@logferry/standins';
import { BlobApi } from './blob-api.ts';
import { ServiceBusAudit } from './blob-audit.ts';
import { type CorpusBlob, expectedTables, type Row } from './blob-corpus.ts';

export const BLOB_FLOW_SERVICES = ['blob-scanner', 'adx-ingester', 'completion-checker'] as const;
export type BlobFlowService = (typeof BLOB_FLOW_SERVICES)[number];

/**
 * Short Service Bus locks: a message held by a killed process comes back after this, not after production's
 * minute. Healthy consumers renew their locks, so this only shortens crash recovery.
 */
const LOCK_DURATION = 'PT5S';

/** Settings every test run uses on top of the stack's local defaults (scans only when the test asks). */
const BASE_ENV: Record<BlobFlowService, Record<string, string>> = {
  'blob-scanner': { SCAN_SCHEDULE: 'off', SCAN_PAGE_SIZE: '50' },
  'adx-ingester': {},
  'completion-checker': {
    STATUS_POLL_INTERVAL_MS: '200',
    // Reports a killed checker received but never deleted reappear after this.
    STATUS_VISIBILITY_TIMEOUT_S: '5',
    // Long by default: a row must be settled by its report, not by the timeout (tests shorten it on purpose).
    STALE_AFTER_MS: '120000',
    STALE_CHECK_INTERVAL_MS: '1000',
  },
};

export interface BlobFlowOptions {
  /** Extra environment per service, over the stack's and BASE_ENV. */
  readonly env?: Partial<Record<BlobFlowService, Record<string, string>>>;
}

export interface BlobFlow {
  readonly stack: LocalStack;
  readonly data: ContainerClient;
  /** The first blob-scanner's HTTP API (the page's origin). */
  readonly api: BlobApi;
  readonly audit: ServiceBusAudit;
  /** What ADX must hold: the rows of every blob upload() put in the data container that is to succeed. */
  readonly expected: Readonly<Record<string, Row[]>>;
  /** Uploads the blobs to the data container and adds their rows to `expected`. */
  upload(blobs: readonly CorpusBlob[]): Promise<Awaited<ReturnType<BlockBlobClient['uploadData']>>[]>;
  /** The running process of each service (the latest one started under that name). */
  service(name: BlobFlowService): ServiceProcess;
  /** Starts (or starts again, after a kill or stop) a service with its environment plus `overrides`. */
  start(name: BlobFlowService, overrides?: Record<string, string>): Promise<ServiceProcess>;
  /** Another blob-scanner replica on its own ports; stopped by stop(). */
  startExtraScanner(): Promise<{ process: ServiceProcess; api: BlobApi }>;
  /**
   * Breaks completion-checker's reader lease. A SIGKILLed holder cannot release it; its successor would
   * wait up to the 60 s lease duration (as documented) — the test breaks it, as an operator could.
   */
  breakCheckerLease(): Promise<void>;
  /** Reports waiting on ADX's success and failure status queues (visible or not). */
  statusQueueDepth(): Promise<number>;
  /** Recent log lines of every process started, for failure messages. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export async function startBlobFlow(options: BlobFlowOptions = {}): Promise<BlobFlow> {
  const baseDir = await mkdtemp(join(tmpdir(), 'logferry-blob-e2e-'));
  const serviceBusConfigPath = join(baseDir, 'servicebus-config.json');
  await writeFile(serviceBusConfigPath, JSON.stringify(await shortLockTopology()));
  const stack = await startLocalStack({ baseDir, serviceBusConfigPath, adxPollIntervalMs: 100 });
  const processes = new Map<string, ServiceProcess>();
  const all: ServiceProcess[] = [];
  const audit = new ServiceBusAudit(stack.serviceBus.records);
  const envOf = (name: BlobFlowService, overrides: Record<string, string> = {}) =>
    stack.serviceEnv(name as StackService, { ...BASE_ENV[name], ...options.env?.[name], ...overrides });

  async function launch(name: BlobFlowService, env: Record<string, string>): Promise<ServiceProcess> {
    const proc = await startServiceProcess(name, env, { logDir: stack.logDir });
    all.push(proc);
    await proc.waitForReady(30_000);
    return proc;
  }

  const stopEverything = async () => {
    await Promise.all(all.map((p) => p.stop('SIGTERM', 10_000).catch(() => undefined)));
    await stack.stop();
    // LOGFERRY_E2E_KEEP=1 keeps the services' logs (<baseDir>/logs/<service>.log) for a look afterwards.
    if (process.env.LOGFERRY_E2E_KEEP) console.log(`blob flow logs kept in ${stack.logDir}`);
    else await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    await Promise.all(
      BLOB_FLOW_SERVICES.map(async (name) => {
        processes.set(name, await launch(name, envOf(name)));
      }),
    );
    const blobs = BlobServiceClient.fromConnectionString(stack.endpoints.storageConnectionString);
    const queues = QueueServiceClient.fromConnectionString(stack.endpoints.storageConnectionString);
    const data = blobs.getContainerClient(stack.endpoints.dataContainer);
    const expected: Record<string, Row[]> = {};
    return {
      stack,
      data,
      api: new BlobApi(stack.endpoints.statusPageUrl),
      audit,
      expected,
      upload(uploads) {
        for (const [table, rows] of Object.entries(expectedTables(uploads)))
          expected[table] = [...(expected[table] ?? []), ...rows];
        return Promise.all(uploads.map((b) => data.getBlockBlobClient(b.name).uploadData(b.body)));
      },
      service(name) {
        const p = processes.get(name);
        if (!p) throw new Error(`${name} was never started`);
        return p;
      },
      async start(name, overrides = {}) {
        const previous = processes.get(name);
        if (previous?.running) throw new Error(`${name} is still running (pid ${previous.pid}); stop or kill it first`);
        const proc = await launch(name, envOf(name, overrides));
        processes.set(name, proc);
        return proc;
      },
      async startExtraScanner() {
        const port = await freePort();
        const proc = await launch('blob-scanner', envOf('blob-scanner', { HTTP_PORT: String(port), HEALTH_PORT: '0' }));
        return { process: proc, api: new BlobApi(`http://127.0.0.1:${port}/`) };
      },
      async breakCheckerLease() {
        // completion-checker's defaults: LEASE_CONTAINER=logferry-locks, LEASE_BLOB=completion-checker.lock.
        const blob = blobs.getContainerClient('logferry-locks').getBlobClient('completion-checker.lock');
        await new BlobLeaseClient(blob).breakLease(0).catch((err: { statusCode?: number }) => {
          if (err.statusCode !== 409) throw err; // 409: no lease to break.
        });
      },
      async statusQueueDepth() {
        let depth = 0;
        for (const name of [stack.adx.names.successQueue, stack.adx.names.failureQueue]) {
          const props = await queues.getQueueClient(name).getProperties();
          depth += props.approximateMessagesCount ?? 0;
        }
        return depth;
      },
      logTails(lines = 15) {
        return all
          .map((p) => `--- ${p.name} (pid ${p.pid}, ${p.running ? 'running' : 'exited'})\n${tail(p.output(), lines)}`)
          .join('\n');
      },
      stop: stopEverything,
    };
  } catch (err) {
    await stopEverything();
    throw err;
  }
}

/** Lines of the process's current output matching `pattern` (its JSON log lines). */
export function countLogLines(proc: ServiceProcess, pattern: RegExp): number {
  return proc
    .output()
    .split('\n')
    .filter((l) => pattern.test(l)).length;
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

interface Subscription {
  Name: string;
  Properties: Record<string, unknown>;
  Rules: unknown[];
}
interface Topic {
  Name: string;
  Subscriptions: Subscription[];
}

/** deploy/servicebus/Config.json with short locks. */
async function shortLockTopology(): Promise<unknown> {
  const config = JSON.parse(await readFile(join(REPO_ROOT, 'deploy/servicebus/Config.json'), 'utf8')) as {
    UserConfig: { Namespaces: { Topics: Topic[] }[] };
  };
  for (const ns of config.UserConfig.Namespaces) {
    for (const topic of ns.Topics) {
      for (const sub of topic.Subscriptions) sub.Properties.LockDuration = LOCK_DURATION;
    }
  }
  return config;
}
