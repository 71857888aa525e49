import { isService, SERVICES, type Service } from '@logferry/shared/services';

/** The six services, in the order the local run starts them (consumers before producers). */
export const STACK_SERVICES = SERVICES;
export type StackService = Service;
export const isStackService = isService;

/** Where each stand-in listens and the resources the stack created: everything a service or a CLI needs. */
export interface LocalEndpoints {
  readonly aws: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
  };
  readonly sqsQueueUrl: string;
  readonly sqsDeadLetterQueueUrl: string;
  readonly bucket: string;
  readonly storageConnectionString: string;
  readonly blobEndpoint: string;
  readonly queueEndpoint: string;
  readonly tableEndpoint: string;
  readonly dataContainer: string;
  readonly stagingContainer: string;
  readonly statusTable: string;
  readonly serviceBusConnectionString: string;
  /** https://127.0.0.1:PORT, self-signed: trust caCertPath. */
  readonly logsIngestionEndpoint: string;
  readonly caCertPath: string;
  readonly dcrImmutableId: string;
  readonly dcrStream: string;
  readonly adxEndpoint: string;
  readonly kustoDatabase: string;
  readonly stsEndpoint: string;
  readonly mappingsFile: string;
  /** The routes file sqs-poller and s3-fetcher run with; absent: the one-source configuration. */
  readonly routesFile?: string;
  /** blob-scanner's page and API (http://127.0.0.1:PORT). */
  readonly statusPageUrl: string;
}

export interface ServicePorts {
  /** HEALTH_PORT of each service (/livez, /readyz). */
  readonly health: Readonly<Record<StackService, number>>;
  /** blob-scanner's HTTP_PORT. */
  readonly statusPage: number;
}

/**
 * The environment each service needs to run against the stand-ins. Every name here is one the service's
 * config schema (shared/src/config/services/<name>.ts) declares, except AWS_ACCESS_KEY_ID/SECRET (read by the
 * AWS SDK's default chain) and NODE_EXTRA_CA_CERTS (read by Node); a unit test holds it to that.
 * Retries and polls are shorter than production's defaults so a demo shows results in seconds.
 */
export function serviceEnvFor(name: StackService, e: LocalEndpoints, ports: ServicePorts): Record<string, string> {
  const common = {
    SERVICEBUS_CONNECTION_STRING: e.serviceBusConnectionString,
    LOGFERRY_LOCAL: 'true',
    HEALTH_PORT: String(ports.health[name]),
    SHUTDOWN_GRACE_MS: '5000',
    LOG_LEVEL: 'info',
  };
  const storage = { STORAGE_CONNECTION_STRING: e.storageConnectionString, STATUS_TABLE: e.statusTable };
  const consumer = { RETRY_BASE_MS: '500', RETRY_MAX_MS: '15000' };
  const aws = {
    AWS_REGION: e.aws.region,
    AWS_ENDPOINT_URL: e.aws.endpoint,
    AWS_ENDPOINT_URL_STS: e.stsEndpoint,
    AWS_S3_FORCE_PATH_STYLE: 'true',
    S3_ALLOWED_BUCKETS: e.bucket,
    AWS_ACCESS_KEY_ID: e.aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: e.aws.secretAccessKey,
  };
  const kusto = { KUSTO_URI: e.adxEndpoint, KUSTO_INGEST_URI: e.adxEndpoint, KUSTO_AUTH: 'none' };
  // With routes, s3-fetcher also checks each route's adx flag against mappings.json at start.
  const routes: Record<string, string> = e.routesFile ? { ROUTES_FILE: e.routesFile } : {};
  const routesWithMappings: Record<string, string> = e.routesFile ? { ...routes, MAPPINGS_FILE: e.mappingsFile } : {};
  switch (name) {
    case 'sqs-poller':
      return { ...common, ...aws, ...routes, SQS_QUEUE_URL: e.sqsQueueUrl };
    case 's3-fetcher':
      return {
        ...common,
        ...storage,
        ...consumer,
        ...aws,
        ...routesWithMappings,
        STAGING_CONTAINER: e.stagingContainer,
      };
    case 'la-uploader':
      return {
        ...common,
        ...storage,
        ...consumer,
        STAGING_CONTAINER: e.stagingContainer,
        LOGS_INGESTION_ENDPOINT: e.logsIngestionEndpoint,
        DCR_IMMUTABLE_ID: e.dcrImmutableId,
        DCR_STREAM: e.dcrStream,
        NODE_EXTRA_CA_CERTS: e.caCertPath,
      };
    case 'blob-scanner':
      return {
        ...common,
        ...storage,
        ...consumer,
        DATA_CONTAINER: e.dataContainer,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: String(ports.statusPage),
        SCAN_SCHEDULE: '1m',
        COUNTS_REFRESH_MS: '2000',
        // The overview: every service's own readiness probe, sampled with the Service Bus counts.
        PIPELINE_SAMPLE_MS: '2000',
        READINESS_URLS: STACK_SERVICES.map((s) => `${s}=http://127.0.0.1:${ports.health[s]}/readyz`).join(','),
        // The page's "Sinks (local stand-ins)" panel: what reached Log Analytics and ADX (stand-in stats routes).
        LOCAL_SINKS_LOGS_INGESTION_URL: e.logsIngestionEndpoint,
        LOCAL_SINKS_ADX_URL: e.adxEndpoint,
        NODE_EXTRA_CA_CERTS: e.caCertPath,
      };
    case 'adx-ingester':
      return {
        ...common,
        ...storage,
        ...consumer,
        ...kusto,
        KUSTO_DATABASE: e.kustoDatabase,
        MAPPINGS_FILE: e.mappingsFile,
        DATA_CONTAINER: e.dataContainer,
        STAGING_CONTAINER: e.stagingContainer,
      };
    case 'completion-checker':
      return {
        ...common,
        ...storage,
        ...kusto,
        STATUS_POLL_INTERVAL_MS: '500',
        STALE_AFTER_MS: '300000',
        STALE_CHECK_INTERVAL_MS: '30000',
      };
  }
}
