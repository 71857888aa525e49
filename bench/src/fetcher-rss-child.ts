// Child process of the fetcher bench: fetches one object from S3 into staged batches (Azurite) with
// the service's default settings and reports its own peak RSS, so the figure is the fetcher's alone.
import { S3Client } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { WorkClaims } from '@logferry/shared/stores/work-claim';
import { createFetchObjectHandler } from '../../services/s3-fetcher/src/fetch-object.ts';
import { BENCH_ROUTES, DEFAULT_SETTINGS, nullPublisher } from './fetcher-pipeline.ts';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
};

const s3 = new S3Client({
  endpoint: env('AWS_ENDPOINT_URL'),
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  forcePathStyle: true,
});
const cs = env('STORAGE_CONNECTION_STRING');
const container = BlobServiceClient.fromConnectionString(cs).getContainerClient('staging');
await container.createIfNotExists();
// A status table per run, so a second run of the same object is not skipped as already staged.
const table = `benchrss${process.env.BENCH_RUN ?? 0}`;
const status = new ObjectStatusStore(TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }));
await status.ensureTable();
const handler = createFetchObjectHandler({
  s3,
  container,
  status,
  claims: new WorkClaims(TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }), {
    scope: 's3obj',
    leaseMs: 60_000,
    owner: 'bench',
  }),
  publisher: nullPublisher,
  logger: createLogger('s3-fetcher', { level: 'warn' }),
  settings: DEFAULT_SETTINGS,
  routes: BENCH_ROUTES,
});
const rssBefore = process.memoryUsage().rss;
let peakSampled = rssBefore;
let ticks = 0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  peakSampled = Math.max(peakSampled, m.rss);
  if (process.env.BENCH_TRACE && ++ticks % 40 === 0) {
    const mb = (n: number) => Math.round(n / 1e6);
    process.stderr.write(
      `rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)}\n`,
    );
  }
}, 25);
const started = performance.now();
const result = await handler({
  body: {
    type: 's3-object',
    schemaVersion: 1,
    id: `bench-large-${process.env.BENCH_RUN ?? 0}`,
    producer: 'sqs-poller',
    time: new Date().toISOString(),
    bucket: env('BENCH_BUCKET'),
    key: env('BENCH_KEY'),
    origin: 'backfill',
  },
  messageId: 'bench-large',
  deliveryCount: 1,
  attempt: 1,
  enqueuedAt: new Date(),
  traceparent: undefined,
  signal: new AbortController().signal,
});
const ms = performance.now() - started;
clearInterval(sampler);
process.stdout.write(
  `${JSON.stringify({
    outcome: result.kind,
    ms,
    rssBeforeBytes: rssBefore,
    // Sampled, not getrusage's maxrss: after fork+exec Linux may report the parent's high-water mark.
    peakRssBytes: peakSampled,
    staged: result.kind === 'success' ? 1 : 0,
  })}\n`,
);
s3.destroy();
