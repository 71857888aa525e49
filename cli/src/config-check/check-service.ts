import type { TokenCredential } from '@azure/core-auth';
import { createAwsCredentialProvider } from '@logferry/shared/auth/aws-clients';
import { createAzureCredential } from '@logferry/shared/auth/azure-credential';
import { entraJwksUrl } from '@logferry/shared/auth/http-auth';
import { type ConfigDefinition, ConfigError, parseConfig, type VarSpecs } from '@logferry/shared/config/define';
import { deriveTableUrl } from '@logferry/shared/config/parts';
import { config as adxIngester, ingestUri } from '@logferry/shared/config/services/adx-ingester';
import { config as blobScanner } from '@logferry/shared/config/services/blob-scanner';
import { config as completionChecker } from '@logferry/shared/config/services/completion-checker';
import { config as laUploader, resolveStream } from '@logferry/shared/config/services/la-uploader';
import { config as s3Fetcher } from '@logferry/shared/config/services/s3-fetcher';
import { config as sqsPoller } from '@logferry/shared/config/services/sqs-poller';
import { consumedSubscriptions, MANIFEST, sentTopics } from '@logferry/shared/manifest';
import { loadMappings, MappingsError } from '@logferry/shared/mappings/index';
import { loadRoutes, RoutesError } from '@logferry/shared/routes/index';
import type { Service } from '../services.ts';
import { type Probe, type ProbeResult, runProbe } from './probe.ts';
import * as checks from './probes.ts';

export const DEFINITIONS: Record<Service, ConfigDefinition<VarSpecs>> = {
  'sqs-poller': sqsPoller,
  's3-fetcher': s3Fetcher,
  'la-uploader': laUploader,
  'blob-scanner': blobScanner,
  'adx-ingester': adxIngester,
  'completion-checker': completionChecker,
};

type Env = Readonly<Record<string, string | undefined>>;
type Cfg = Record<string, unknown>;

export interface ServiceReport {
  readonly service: Service;
  readonly results: readonly ProbeResult[];
}

/** Logs Ingestion hosts of the Azure clouds: la-uploader never sends its local placeholder token there. */
const AZURE_MONITOR_HOST = /\.monitor\.azure\.(com|us|cn)$/i;
/** The bearer token la-uploader sends a local stand-in instead of an Azure identity's (LOGFERRY_LOCAL). */
const LOCAL_STAND_IN_TOKEN = 'logferry-local-stand-in';

/** Parses the service's configuration from `env`, then reaches every endpoint it names. Never prints a value. */
export async function checkService(service: Service, env: Env, timeoutMs: number): Promise<ServiceReport> {
  let config: Cfg;
  try {
    config = parseConfig(DEFINITIONS[service], env) as Cfg;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { service, results: err.problems.map((problem) => ({ name: 'configuration', ok: false, detail: problem })) };
  }
  const results: ProbeResult[] = [{ name: 'configuration', ok: true, detail: 'parsed' }];
  const closers: (() => unknown)[] = [];
  try {
    const probes = buildProbes(service, config, env, closers);
    for (const probe of probes) results.push(await runProbe(probe, timeoutMs));
  } finally {
    await Promise.allSettled(closers.map((close) => close()));
  }
  return { service, results };
}

function buildProbes(service: Service, config: Cfg, env: Env, closers: (() => unknown)[]): Probe[] {
  const probes: Probe[] = [];
  let azure: TokenCredential | undefined;
  const credential = () => {
    azure ??= createAzureCredential(config);
    return azure;
  };
  const str = (name: string) =>
    typeof config[name] === 'string' && config[name] !== '' ? (config[name] as string) : undefined;

  if (service === 'adx-ingester') probes.push(mappingsProbe(str('MAPPINGS_FILE') ?? 'mappings.json'));
  const routesFile = str('ROUTES_FILE');
  if (routesFile && (service === 'sqs-poller' || service === 's3-fetcher')) probes.push(routesProbe(routesFile));

  // Service Bus: what the service consumes and publishes.
  const sb = str('SERVICEBUS_CONNECTION_STRING')
    ? new checks.ServiceBusClient(str('SERVICEBUS_CONNECTION_STRING') ?? '', { retryOptions: { maxRetries: 0 } })
    : new checks.ServiceBusClient(str('SERVICEBUS_NAMESPACE') ?? '', credential(), { retryOptions: { maxRetries: 0 } });
  closers.push(() => sb.close());
  // Listen on each subscription it consumes (named by its setting), Send on each topic it publishes or
  // replays dead letters to, or consumes from (a retry is a scheduled copy sent to the consumed topic):
  // shared/src/manifest.ts.
  const consumed = consumedSubscriptions(service, config);
  for (const { topic, subscription } of consumed) probes.push(checks.serviceBusReceiveProbe(sb, topic, subscription));
  const sends = new Set<string>([...sentTopics(service), ...consumed.map((x) => x.topic)]);
  for (const topic of [...sends].sort()) probes.push(checks.serviceBusSendProbe(sb, topic));

  // Storage: the containers the service names and the status table.
  if (service !== 'sqs-poller') {
    const cs = str('STORAGE_CONNECTION_STRING');
    // One try each: a check reports the first failure instead of retrying it past the timeout.
    const blobOptions = { retryOptions: { maxTries: 1 } };
    const tableOptions = { retryOptions: { maxRetries: 0 } };
    const blobs = cs
      ? checks.BlobServiceClient.fromConnectionString(cs, blobOptions)
      : new checks.BlobServiceClient(str('STORAGE_ACCOUNT_URL') ?? '', credential(), blobOptions);
    const tableName = str('STATUS_TABLE') ?? 'logferrystatus';
    const table = cs
      ? checks.TableClient.fromConnectionString(cs, tableName, {
          ...tableOptions,
          allowInsecureConnection: /=http:\/\//i.test(cs),
        })
      : new checks.TableClient(
          deriveTableUrl(str('STORAGE_ACCOUNT_URL') ?? '', str('STORAGE_TABLE_URL')) ?? '',
          tableName,
          credential(),
          tableOptions,
        );
    for (const k of ['STAGING_CONTAINER', 'DATA_CONTAINER']) {
      const container = str(k);
      if (container) probes.push(checks.blobContainerProbe(blobs, container));
    }
    probes.push(checks.tableProbe(table));
    // The lease blobs that elect one replica.
    for (const lease of MANIFEST[service].leaseBlobs)
      if (lease.when?.(config) ?? true)
        probes.push(checks.leaseBlobProbe(blobs, str(lease.containerSetting) ?? '', lease.blob(config)));
  }

  // AWS: credentials first (their failure explains the others), then the queue or the buckets.
  if (service === 'sqs-poller' || service === 's3-fetcher') {
    const keys = { accessKeyId: env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '' };
    const role = str('AWS_ROLE_ARN');
    const provider =
      !role && keys.accessKeyId && keys.secretAccessKey
        ? async () => keys
        : createAwsCredentialProvider(
            config as unknown as Parameters<typeof createAwsCredentialProvider>[0],
            role ? credential() : undefined,
          );
    probes.push(
      checks.awsCredentialsProbe(
        provider,
        role ? `STS web identity at ${str('AWS_ENDPOINT_URL_STS') ?? 'AWS STS'}` : 'default chain',
      ),
    );
    const aws = {
      region: str('AWS_REGION') ?? 'us-east-1',
      credentials: provider,
      ...(str('AWS_ENDPOINT_URL') ? { endpoint: str('AWS_ENDPOINT_URL') } : {}),
      maxAttempts: 1,
    };
    if (service === 'sqs-poller') {
      const sqs = new checks.SQSClient(aws);
      closers.push(() => sqs.destroy());
      probes.push(checks.sqsProbe(sqs, str('SQS_QUEUE_URL') ?? ''));
    } else {
      const s3 = new checks.S3Client({ ...aws, forcePathStyle: config.AWS_S3_FORCE_PATH_STYLE === true });
      closers.push(() => s3.destroy());
      for (const bucket of allowedBuckets(config, routesFile)) probes.push(checks.s3BucketProbe(s3, bucket));
    }
  }

  if (service === 'la-uploader') {
    const endpoint = str('LOGS_INGESTION_ENDPOINT') ?? '';
    probes.push(checks.httpsReachableProbe('Logs Ingestion endpoint', endpoint, env.NODE_EXTRA_CA_CERTS));
    // As la-uploader decides (local-credential.ts): a local run sends a stand-in a placeholder token.
    const local = config.LOGFERRY_LOCAL === true && !AZURE_MONITOR_HOST.test(new URL(endpoint).hostname);
    const scope = `${str('LOGS_INGESTION_AUDIENCE') ?? 'https://monitor.azure.com'}/.default`;
    if (!local) probes.push(checks.azureTokenProbe(credential(), scope, 'Logs Ingestion'));
    probes.push(
      checks.dcrStreamProbe({
        endpoint,
        ruleId: str('DCR_IMMUTABLE_ID') ?? '',
        stream: resolveStream(config as { DCR_STREAM?: string; LOG_ANALYTICS_TABLE?: string }),
        token: local
          ? async () => LOCAL_STAND_IN_TOKEN
          : async () => {
              const token = await credential().getToken(scope);
              if (!token) throw new Error(`no token for ${scope}`);
              return token.token;
            },
        caFile: env.NODE_EXTRA_CA_CERTS,
      }),
    );
  }

  if (service === 'blob-scanner' && str('AUTH_TENANT_ID'))
    probes.push(checks.entraKeysProbe(entraJwksUrl(str('AUTH_TENANT_ID') ?? ''), env.NODE_EXTRA_CA_CERTS));

  if (service === 'adx-ingester' || service === 'completion-checker') {
    const uri = ingestUri(config as { KUSTO_INGEST_URI?: string; KUSTO_URI?: string });
    const token =
      config.KUSTO_AUTH === 'azure'
        ? async () => (await credential().getToken(`${new URL(uri).origin}/.default`))?.token ?? ''
        : undefined;
    const resources = checks.ingestionResources(uri, token);
    probes.push(checks.kustoProbe(uri, resources));
    // completion-checker reads ADX's status queues through the SAS URLs the resources list.
    if (service === 'completion-checker') {
      probes.push(checks.statusQueueProbe('FailedIngestionsQueue', resources));
      if (config.REPORT_LEVEL !== 'FailuresOnly')
        probes.push(checks.statusQueueProbe('SuccessfulIngestionsQueue', resources));
    }
  }
  return probes;
}

/** The buckets s3-fetcher may read: S3_ALLOWED_BUCKETS, else the routes' (a bad file is its own probe's failure). */
function allowedBuckets(config: Cfg, routesFile: string | undefined): string[] {
  const listed = (config.S3_ALLOWED_BUCKETS as string[] | undefined) ?? [];
  if (listed.length > 0 || !routesFile) return listed;
  try {
    return [...new Set(loadRoutes(routesFile).flatMap((r) => r.matches.map((m) => m.bucket)))];
  } catch {
    return [];
  }
}

function routesProbe(path: string): Probe {
  return {
    name: `routes file ${path}`,
    async run() {
      try {
        const routes = loadRoutes(path);
        return `${routes.length} routes valid (${routes.map((r) => r.name).join(', ')})`;
      } catch (err) {
        if (err instanceof RoutesError) throw new Error(err.problems.join('; '));
        throw err;
      }
    },
  };
}

function mappingsProbe(path: string): Probe {
  return {
    name: `mappings file ${path}`,
    async run() {
      try {
        const m = loadMappings(path);
        return `${m.size} entries valid`;
      } catch (err) {
        if (err instanceof MappingsError) throw new Error(err.problems.join('; '));
        throw err;
      }
    },
  };
}
