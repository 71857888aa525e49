import { spawn } from 'node:child_process';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { WorkClaims } from '@logferry/shared/stores/work-claim';
import { startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import { createFetchObjectHandler } from '../../services/s3-fetcher/src/fetch-object.ts';
import { code42Event, gzipNdjsonCorpus, gzipNdjsonStream } from './fetcher-corpus.ts';
import { runFloor } from './fetcher-floor.ts';
import { BENCH_ROUTES, DEFAULT_SETTINGS, nullPublisher, runPipeline } from './fetcher-pipeline.ts';
import { runLineScanBench } from './line-scan-bench.ts';
import { fmt, type Row } from './table.ts';

export interface FetcherBenchOptions {
  /** Records in the in-memory corpus (floor, pipeline, fetch from fauxqs). */
  readonly records: number;
  /** Uncompressed size of the large object fetched for peak RSS. */
  readonly largeBytes: number;
  readonly progress: (line: string) => void;
}

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T } & Timing> {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(cpu);
  return { value, wallMs, cpuMs: (c.user + c.system) / 1000 };
}

const mb = (bytes: number) => bytes / 1e6;

/** Best of `runs` (least disturbed by other load on the machine). */
async function best(runs: number, fn: () => Promise<unknown> | unknown): Promise<Timing> {
  let top: Timing | undefined;
  for (let i = 0; i < runs; i++) {
    const t = await timed(fn);
    if (!top || t.wallMs < top.wallMs) top = t;
  }
  return top!;
}

/** The floor's rates, which the later benchmarks of the run are compared with. */
export interface FloorRates {
  readonly recordsPerSec: number;
  readonly recordsPerCpuSec: number;
}

export async function runFetcherBench(options: FetcherBenchOptions): Promise<{ rows: Row[]; floor: FloorRates }> {
  const { progress } = options;
  progress(`generating a Code42-like corpus of ${options.records} records`);
  const { gz, rawBytes } = await gzipNdjsonCorpus(options.records);
  const perSec = (t: Timing) => ({
    recordsPerSec: options.records / (t.wallMs / 1000),
    mbPerSec: mb(rawBytes) / (t.wallMs / 1000),
    recordsPerCpuSec: options.records / (t.cpuMs / 1000),
  });

  // Warm the JIT on a small slice so neither side pays for compilation in its figure.
  const warm = await gzipNdjsonCorpus(5_000);
  runFloor(warm.gz, DEFAULT_SETTINGS.maxBatchBytes, DEFAULT_SETTINGS.gzipLevel);
  await runPipeline(warm.gz);

  progress('floor: gunzip + JSON.parse + JSON.stringify + gzip in one loop');
  const floor = await best(3, () => runFloor(gz, DEFAULT_SETTINGS.maxBatchBytes, DEFAULT_SETTINGS.gzipLevel));
  progress('s3-fetcher pipeline: decompress + decode + enrich + batch + gzip (no network)');
  const pipeline = await best(3, () => runPipeline(gz));
  progress('line scan vs JSON.parse on the corpus lines');
  const lineScan = await runLineScanBench(Math.min(options.records, 20_000));

  progress('fetch from fauxqs, staging to Azurite');
  const [fauxqs, azurite] = await Promise.all([startFauxqsServer(), startAzurite()]);
  const rows: Row[] = [];
  try {
    const s3 = fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'bench-logs' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bench-logs', Key: 'incydr/corpus.json.gz', Body: gz }));
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    await container.createIfNotExists();
    const statusTable = TableClient.fromConnectionString(azurite.connectionString, 'benchstatus', {
      allowInsecureConnection: true,
    });
    const status = new ObjectStatusStore(statusTable);
    await status.ensureTable();
    const handler = createFetchObjectHandler({
      s3,
      container,
      status,
      claims: new WorkClaims(statusTable, { scope: 's3obj', leaseMs: 60_000, owner: 'bench' }),
      publisher: nullPublisher,
      logger: createLogger('s3-fetcher', { level: 'warn' }),
      settings: DEFAULT_SETTINGS,
      routes: BENCH_ROUTES,
    });
    let run = 0;
    const fetched = await timed(() =>
      handler({
        body: {
          type: 's3-object',
          schemaVersion: 1,
          id: `bench-${run++}`,
          producer: 'sqs-poller',
          time: new Date().toISOString(),
          bucket: 'bench-logs',
          key: 'incydr/corpus.json.gz',
          origin: 'backfill',
        },
        messageId: 'bench',
        deliveryCount: 1,
        attempt: 1,
        enqueuedAt: new Date(),
        traceparent: undefined,
        signal: new AbortController().signal,
      }),
    );
    if (fetched.value.kind !== 'success') throw new Error(`fetch failed: ${JSON.stringify(fetched.value)}`);

    const recordBytes = Buffer.byteLength(`${JSON.stringify(code42Event(1))}\n`);
    const largeRecords = Math.ceil(options.largeBytes / recordBytes);
    progress(`uploading a ${Math.round(options.largeBytes / 1e6)} MB (uncompressed) object to fauxqs`);
    await new Upload({
      client: s3,
      params: { Bucket: 'bench-logs', Key: 'large/object.json.gz', Body: gzipNdjsonStream(largeRecords, 1) },
      partSize: 8 * 1024 * 1024, // fauxqs accepts request bodies up to 11 MiB
      queueSize: 2,
    }).done();
    const childEnv = {
      ...fauxqs.env(),
      STORAGE_CONNECTION_STRING: azurite.connectionString,
      BENCH_BUCKET: 'bench-logs',
      BENCH_KEY: 'large/object.json.gz',
    };
    // V8 grows the young generation to 3 × 32 MB under a high allocation rate, whatever the live data;
    // capping the semi-space (as the s3-fetcher image should) trades a little CPU for ~100 MB of RSS.
    const large: [string, ChildReport][] = [];
    for (const flags of [[], [SEMI_SPACE_FLAG]]) {
      progress(
        `fetching it in a child process (default settings${flags.length ? `, ${flags.join(' ')}` : ''}), watching its RSS`,
      );
      const child = await runChild({ ...childEnv, BENCH_RUN: String(large.length) }, flags);
      if (child.outcome !== 'success') throw new Error(`large fetch failed: ${JSON.stringify(child)}`);
      large.push([flags.join(' ') || 'node defaults', child]);
    }

    const f = perSec(floor);
    const p = perSec(pipeline);
    const e = perSec(fetched);
    rows.push(
      [
        'corpus',
        `${options.records} records`,
        `${mb(rawBytes).toFixed(1)} MB raw, ${mb(gz.length).toFixed(1)} MB gzip`,
      ],
      ['floor (1 core)', `${fmt(f.recordsPerSec)} rec/s`, `${f.mbPerSec.toFixed(1)} MB/s`],
      [
        's3-fetcher pipeline',
        `${fmt(p.recordsPerSec)} rec/s`,
        `${p.mbPerSec.toFixed(1)} MB/s; ${(p.recordsPerSec / f.recordsPerSec).toFixed(2)}× floor wall, ${(p.recordsPerCpuSec / f.recordsPerCpuSec).toFixed(2)}× floor per CPU-second`,
      ],
      lineScan,
      [
        'fetch fauxqs → stage Azurite',
        `${fmt(e.recordsPerSec)} rec/s`,
        `${e.mbPerSec.toFixed(1)} MB/s end to end (1 object)`,
      ],
      ...large.map(
        ([flags, child]): Row => [
          `peak RSS fetching ${Math.round(options.largeBytes / 1e6)} MB`,
          `${Math.round(mb(child.peakRssBytes))} MB`,
          `${flags}: ${Math.round(mb(child.rssBeforeBytes))} MB before the fetch; ${fmt(largeRecords / (child.ms / 1000))} rec/s`,
        ],
      ),
    );
    s3.destroy();
  } finally {
    await Promise.all([fauxqs.stop(), azurite.stop()]);
  }
  const f = perSec(floor);
  return { rows, floor: { recordsPerSec: f.recordsPerSec, recordsPerCpuSec: f.recordsPerCpuSec } };
}

export interface ChildReport {
  outcome: string;
  ms: number;
  rssBeforeBytes: number;
  /** Sampled every 25 ms while the object is fetched. */
  peakRssBytes: number;
}

export const SEMI_SPACE_FLAG = '--max-semi-space-size=8';

export function runChild(env: Record<string, string>, flags: readonly string[]): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, new URL('./fetcher-rss-child.ts', import.meta.url).pathname], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        if (code !== 0) throw new Error(`exit ${code}`);
        resolve(JSON.parse(line) as ChildReport);
      } catch (err) {
        reject(new Error(`fetcher child failed (${(err as Error).message}): ${out}`));
      }
    });
  });
}
