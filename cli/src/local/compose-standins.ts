import { hostname } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { BlobServiceClient } from '@azure/storage-blob';

export interface ComposeOptions {
  readonly host: string;
  readonly logsIngestionPort: number;
  readonly adxPort: number;
  readonly stsPort: number;
  readonly certDir: string;
  readonly certHosts: readonly string[];
  readonly seed: boolean;
}

export interface RunningStandIns {
  readonly lines: readonly string[];
  close(): Promise<void>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * docker-compose's `standins` container: the project's Logs Ingestion, ADX and STS stand-ins on fixed ports,
 * next to the compose file's own fauxqs, Azurite and Service Bus emulator (named by the environment).
 * Creates the queue, bucket, containers and status table the services expect, and optionally seeds them.
 */
export async function startComposeStandIns(options: ComposeOptions): Promise<RunningStandIns> {
  const s = await import('@logferry/standins');
  const storage = process.env.STORAGE_CONNECTION_STRING || process.env.AzureStorage;
  const awsEndpoint = process.env.AWS_ENDPOINT_URL;
  const queueUrl = process.env.SQS_QUEUE_URL;
  const bucket = (process.env.S3_ALLOWED_BUCKETS ?? '').split(',')[0]?.trim();
  const missing = [
    ['STORAGE_CONNECTION_STRING', storage],
    ['AWS_ENDPOINT_URL', awsEndpoint],
    ['SQS_QUEUE_URL', queueUrl],
    ['S3_ALLOWED_BUCKETS', bucket],
  ].filter(([, v]) => !v);
  if (missing.length > 0 || !storage || !awsEndpoint || !queueUrl || !bucket) {
    throw new Error(`--compose needs ${missing.map(([n]) => n).join(', ')} in the environment`);
  }
  const aws = {
    endpoint: awsEndpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    // fauxqs accepts any key; the services themselves go through STS web identity in compose.
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
    },
  };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sqs = new SQSClient(aws);
  const queue = queueUrl.split('/').pop() ?? 'code42-events';
  await retry('fauxqs and Azurite', 60_000, async () => {
    await s.provisionAws(sqs, s3, { queue, bucket });
    await s.provisionStorage(storage, {
      containers: ['data', 'staging'],
      statusTable: process.env.STATUS_TABLE ?? 'logferrystatus',
    });
  });
  const certificate = await s.createStandInCertificate(options.certDir, [hostname(), 'standins', ...options.certHosts]);
  const dcr = process.env.DCR_IMMUTABLE_ID;
  const stream = process.env.DCR_STREAM;
  // The routes the compose file's sqs-poller and s3-fetcher run with: the stand-in accepts every stream they name.
  const routesFile = process.env.ROUTES_FILE || undefined;
  const li = await s.startLogsIngestionStandIn({
    port: options.logsIngestionPort,
    host: options.host,
    certificate,
    ...(dcr && stream ? { rules: s.dcrRulesFor(routesFile, dcr, stream) } : {}),
  });
  const adx = await s.startAdxStandIn({ storageConnectionString: storage, port: options.adxPort, host: options.host });
  const sts = await s.startStsStandIn({ port: options.stsPort, host: options.host });
  if (options.seed) {
    const target = {
      s3,
      sqs,
      queueUrl,
      bucket,
      region: aws.region,
      dataContainer: BlobServiceClient.fromConnectionString(storage).getContainerClient('data'),
    };
    // npm start's seed; without the routes the other two sources would be refused, so only the first is seeded.
    const result = await s.seedSampleData(target, routesFile ? s.LOCAL_RUN_SEED : { problems: true });
    say(s.seedSummary(result));
  }
  return {
    lines: [
      `Logs Ingestion stand-in  ${li.endpoint}  (CA: ${join(options.certDir, 'ca.pem')})`,
      `ADX stand-in             ${adx.endpoint}`,
      `STS stand-in             ${sts.endpoint}`,
    ],
    async close() {
      await Promise.allSettled([li.close(), adx.close(), sts.close()]);
      s3.destroy();
      sqs.destroy();
    },
  };
}

async function retry(what: string, timeoutMs: number, fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`${what} not reachable after ${timeoutMs / 1000} s: ${(err as Error).message}`);
      say(`waiting for ${what} (${(err as Error).message})`);
      await new Promise((r) => setTimeout(r, Math.min(5_000, 500 * attempt)));
    }
  }
}
