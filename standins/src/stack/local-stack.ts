import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '@logferry/shared/logging/logger';
import { loadRoutes } from '@logferry/shared/routes/index';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing/azurite';
import { type FauxqsHandle, startFauxqsServer } from '@logferry/shared/testing/fauxqs';
import { pino } from 'pino';
import { type AdxStandIn, startAdxStandIn } from '../adx/index.ts';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '../logs-ingestion/index.ts';
import { type ServiceBusStandIn, startServiceBusStandIn } from '../servicebus/index.ts';
import { type StsStandIn, startStsStandIn } from '../sts/index.ts';
import { createLoopbackCertificate, type LoopbackCertificate } from '../tls.ts';
import { freePort, preferredPort } from './ports.ts';
import { provisionAws, provisionStorage } from './provision.ts';
import {
  type LocalEndpoints,
  type ServicePorts,
  STACK_SERVICES,
  type StackService,
  serviceEnvFor,
} from './service-env.ts';
import { REPO_ROOT } from './service-process.ts';

export interface LocalStackPorts {
  readonly logsIngestion: number;
  readonly adx: number;
  readonly sts: number;
  readonly serviceBus: number;
  /** blob-scanner's page; the local run prefers 8081 and falls back to a free port. */
  readonly statusPage: number;
}

export interface LocalStackOptions {
  /** Logs (`<baseDir>/logs`) go here; a temp directory when omitted, removed by stop() unless keepBaseDir. */
  readonly baseDir?: string;
  readonly keepBaseDir?: boolean;
  /** For the stand-ins' own log lines; default: JSON lines in `<baseDir>/logs/standins.log`. */
  readonly logger?: Logger;
  /** Fixed ports (0 or omitted: a free one). */
  readonly ports?: Partial<LocalStackPorts>;
  /** The Service Bus topology; default deploy/servicebus/Config.json (tests shorten lock durations with their own). */
  readonly serviceBusConfigPath?: string;
  readonly bucket?: string;
  readonly queue?: string;
  readonly adxPollIntervalMs?: number;
  /** The Logs Ingestion stand-in counts records without parsing or keeping them (benchmarks). */
  readonly countOnlySink?: boolean;
  /**
   * A routes file (e.g. DEFAULT_ROUTES_FILE, the repository's routes.json) for sqs-poller and s3-fetcher; the
   * Logs Ingestion stand-in then also knows every stream (and DCR) it names. Unset: the one-source configuration.
   */
  readonly routesFile?: string;
}

/** The repository's routes.json: three sources of the local bucket, three streams of one DCR. */
export const DEFAULT_ROUTES_FILE = join(REPO_ROOT, 'routes.json');

export interface LocalStack {
  readonly baseDir: string;
  readonly logDir: string;
  readonly endpoints: LocalEndpoints;
  readonly ports: ServicePorts;
  readonly fauxqs: FauxqsHandle;
  readonly azurite: AzuriteHandle;
  readonly serviceBus: ServiceBusStandIn;
  readonly logsIngestion: LogsIngestionStandIn;
  readonly adx: AdxStandIn;
  readonly sts: StsStandIn;
  /** The full environment `name` needs to run against these stand-ins (see service-env.ts). */
  serviceEnv(name: StackService, overrides?: Record<string, string>): Record<string, string>;
  /** Stops every stand-in (services first, if you started any: this does not know about them). Idempotent. */
  stop(): Promise<void>;
}

const DCR_IMMUTABLE_ID = 'dcr-00000000000000000000000000000000';
const DCR_STREAM = 'Custom-Code42FileEvents_CL';

/**
 * fauxqs (SQS, S3), Azurite (Blob, Queue, Table), and the project's Service Bus, Logs Ingestion, ADX and STS
 * stand-ins, with the queue (and its dead-letter queue), bucket, containers and status table created.
 * Independent pieces start in parallel; the ADX stand-in waits for Azurite, which holds its queues.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const ownsBaseDir = options.baseDir === undefined && !options.keepBaseDir;
  const baseDir = options.baseDir ?? (await mkdtemp(join(tmpdir(), 'logferry-stack-')));
  const logDir = join(baseDir, 'logs');
  await mkdir(logDir, { recursive: true });
  const destination = options.logger
    ? undefined
    : pino.destination({ dest: join(logDir, 'standins.log'), sync: false });
  const logger = options.logger ?? createLogger('standins', destination ? { destination } : {});
  const ports = options.ports ?? {};
  const started: (() => Promise<unknown>)[] = [];
  const track = <T extends { close?: () => Promise<unknown>; stop?: () => Promise<unknown> }>(h: T): T => {
    started.push(() => (h.stop ? h.stop() : (h.close?.() ?? Promise.resolve())));
    return h;
  };
  let certificate: LoopbackCertificate | undefined;
  const stopAll = async () => {
    // Reverse start order: the ADX stand-in's worker reads Azurite until it stops.
    for (const stop of started.splice(0).reverse()) await stop().catch(() => undefined);
    await certificate?.dispose().catch(() => undefined);
    destination?.end();
    if (ownsBaseDir) await rm(baseDir, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    certificate = await createLoopbackCertificate();
    const cert = certificate;
    const [fauxqs, azurite, serviceBus, logsIngestion, sts] = await Promise.all([
      startFauxqsServer().then(track),
      startAzurite({ detached: true }).then(track),
      startServiceBusStandIn({
        port: ports.serviceBus ?? 0,
        logger,
        certificate: cert,
        ...(options.serviceBusConfigPath ? { configPath: options.serviceBusConfigPath } : {}),
      }).then(track),
      startLogsIngestionStandIn({
        port: ports.logsIngestion ?? 0,
        certificate: cert,
        keepRecords: !options.countOnlySink,
        rules: dcrRulesFor(options.routesFile, DCR_IMMUTABLE_ID, DCR_STREAM),
      }).then(track),
      startStsStandIn({ port: ports.sts ?? 0 }).then(track),
    ]);
    const adx = track(
      await startAdxStandIn({
        storageConnectionString: azurite.connectionString,
        port: ports.adx ?? 0,
        pollIntervalMs: options.adxPollIntervalMs ?? 200,
      }),
    );
    const names = {
      bucket: options.bucket ?? 'code42-logs',
      queue: options.queue ?? 'code42-events',
      dataContainer: 'data',
      stagingContainer: 'staging',
      statusTable: 'logferrystatus',
    };
    const sqs = fauxqs.sqs();
    const s3 = fauxqs.s3();
    const [aws] = await Promise.all([
      provisionAws(sqs, s3, { queue: names.queue, bucket: names.bucket }),
      provisionStorage(azurite.connectionString, {
        containers: [names.dataContainer, names.stagingContainer],
        statusTable: names.statusTable,
      }),
    ]);
    const statusPage = ports.statusPage === undefined ? await freePort() : await preferredPort(ports.statusPage);
    const health = Object.fromEntries(
      await Promise.all(STACK_SERVICES.map(async (s) => [s, await freePort()] as const)),
    ) as Record<StackService, number>;
    const servicePorts: ServicePorts = { health, statusPage };
    const endpoints: LocalEndpoints = {
      aws: {
        endpoint: fauxqs.endpoint,
        region: fauxqs.region,
        accessKeyId: fauxqs.credentials.accessKeyId,
        secretAccessKey: fauxqs.credentials.secretAccessKey,
      },
      sqsQueueUrl: aws.queueUrl,
      sqsDeadLetterQueueUrl: aws.deadLetterQueueUrl,
      bucket: aws.bucket,
      storageConnectionString: azurite.connectionString,
      blobEndpoint: azurite.blobEndpoint,
      queueEndpoint: azurite.queueEndpoint,
      tableEndpoint: azurite.tableEndpoint,
      dataContainer: names.dataContainer,
      stagingContainer: names.stagingContainer,
      statusTable: names.statusTable,
      serviceBusConnectionString: serviceBus.connectionString,
      logsIngestionEndpoint: logsIngestion.endpoint,
      caCertPath: logsIngestion.caCertPath,
      dcrImmutableId: DCR_IMMUTABLE_ID,
      dcrStream: DCR_STREAM,
      adxEndpoint: adx.endpoint,
      kustoDatabase: 'SecurityLogs',
      stsEndpoint: sts.endpoint,
      mappingsFile: join(REPO_ROOT, 'mappings.json'),
      ...(options.routesFile ? { routesFile: options.routesFile } : {}),
      statusPageUrl: `http://127.0.0.1:${statusPage}/`,
    };
    let stopping: Promise<void> | undefined;
    return {
      baseDir,
      logDir,
      endpoints,
      ports: servicePorts,
      fauxqs,
      azurite,
      serviceBus,
      logsIngestion,
      adx,
      sts,
      serviceEnv: (name, overrides = {}) => ({ ...serviceEnvFor(name, endpoints, servicePorts), ...overrides }),
      stop() {
        stopping ??= stopAll();
        return stopping;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/**
 * The DCRs and streams the Logs Ingestion stand-in accepts: the default rule's stream, and every stream the routes
 * name (a route without its own dcr uses the default rule). Also docker-compose's stand-ins (compose-standins.ts).
 */
export function dcrRulesFor(
  routesFile: string | undefined,
  defaultDcr: string,
  defaultStream: string,
): Record<string, string[]> {
  const rules: Record<string, Set<string>> = { [defaultDcr]: new Set([defaultStream]) };
  for (const route of routesFile ? loadRoutes(routesFile) : []) {
    if (!route.logsIngestion) continue;
    const dcr = route.logsIngestion.dcr ?? defaultDcr;
    const streams = rules[dcr] ?? new Set<string>();
    streams.add(route.logsIngestion.stream);
    rules[dcr] = streams;
  }
  return Object.fromEntries(Object.entries(rules).map(([dcr, streams]) => [dcr, [...streams]]));
}
