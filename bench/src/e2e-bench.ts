import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { waitUntil } from '@logferry/shared/testing';
import { type Corpus, type CorpusObject, directNotification, s3Record } from '../../test/src/s3-corpus.ts';
import { FLOW_SERVICES, type Flow, type FlowService, startFlow } from '../../test/src/s3-flow.ts';
import type { FloorRates } from './fetcher-bench.ts';
import { ndjsonChunks } from './fetcher-corpus.ts';
import { fmt, type Row } from './table.ts';

export interface E2eBenchOptions {
  /** Records in the measured corpus (BENCH_E2E_RECORDS). */
  readonly records: number;
  /** gzip NDJSON objects the records are spread over, so the stages' concurrency plays. */
  readonly objects: number;
  readonly progress: (line: string) => void;
  /** The floor measured earlier in the run (fetcher bench), for the ratios. */
  readonly floor: FloorRates;
  /** la-uploader's CONCURRENCY (BENCH_UPLOADER_CONCURRENCY), at which its peak RSS is read. */
  readonly uploaderConcurrency: number;
  /** Records sent through the services before the measured corpus (BENCH_E2E_WARMUP). */
  readonly warmupRecords: number;
  /** Times the measured corpus goes through (BENCH_E2E_ROUNDS); the best round is reported, with the range. */
  readonly rounds: number;
}

/**
 * End-to-end throughput: sqs-poller, s3-fetcher and la-uploader as separate processes (as in production)
 * against the local stack, from the first SQS notification to the last record accepted by the Logs
 * Ingestion stand-in. The stand-ins (fauxqs, Service Bus, and Logs Ingestion in count-only mode, which
 * gunzips and counts each body without parsing it, so the sink does not dominate) run in this process and
 * share the machine's cores with the services: the figure is a floor for what the services do on their own.
 * The corpus's records (~1.2 KB) fill every batch to the byte limit, so la-uploader's peak RSS (VmHWM) is
 * read on maximum-size batches at the CONCURRENCY given.
 */
export async function runE2eBench(
  options: E2eBenchOptions,
): Promise<{ rows: Row[]; recordsPerBatch: number | undefined }> {
  const { progress } = options;
  progress('end to end: starting the local stack and the three services');
  // Production's visibility timeout; the tests' 2 s only matters for bodies left to the redrive policy.
  const flow = await startFlow({
    countOnlySink: true,
    env: {
      'sqs-poller': { VISIBILITY_TIMEOUT_SECONDS: '360' },
      'la-uploader': { CONCURRENCY: String(options.uploaderConcurrency) },
    },
  });
  try {
    const bucket = flow.stack.endpoints.bucket;
    // The floor is measured warm (fetcher bench); the services get the same: ~30 batches through each, so the
    // figure is a long-running pod's cost, not the JIT's first compilations (2,000 records, 3 batches, before).
    progress(`end to end: warm-up corpus (${fmt(options.warmupRecords)} records)`);
    const { corpus: warm } = await ndjsonCorpus(bucket, 'warmup', options.warmupRecords, 4);
    await flow.announce(warm, await flow.upload(warm));
    await flow.waitDrained(warm.expectedCount, 120_000);
    // Staged blobs are deleted in batches after their messages settle: the warm-up's go before the measured run.
    const staging = BlobServiceClient.fromConnectionString(
      flow.stack.endpoints.storageConnectionString,
    ).getContainerClient(flow.stack.endpoints.stagingContainer);
    await waitUntilEmpty(staging, 60_000);
    flow.stack.logsIngestion.reset();

    const rounds: Round[] = [];
    for (let r = 1; r <= options.rounds; r++) {
      progress(`end to end: round ${r} of ${options.rounds}, ${options.records} records in ${options.objects} objects`);
      rounds.push(await measureRound(flow, staging, options, `measured-${r}`));
      flow.stack.logsIngestion.reset();
    }
    const rows = roundRows(rounds, options);
    const uploaderPeak = peakRssBytes(flow.services['la-uploader'].pid);
    if (uploaderPeak !== undefined) {
      rows.push([
        `la-uploader peak RSS, CONCURRENCY=${options.uploaderConcurrency}`,
        `${Math.round(uploaderPeak / 1e6)} MB`,
        `VmHWM over the whole run; ${rounds[0]?.accepted} batches a round of up to MAX_BATCH_BYTES (950 KB) uploaded`,
      ]);
    }
    const accepted = rounds[0]?.accepted ?? 0;
    return { rows, recordsPerBatch: accepted > 0 ? options.records / accepted : undefined };
  } finally {
    await flow.stop();
  }
}

interface Round {
  readonly seconds: number;
  readonly firstMs: number;
  /** Requests the sink accepted: one per batch unless a batch was split. */
  readonly accepted: number;
  readonly duplicates: number;
  readonly rawBytes: number;
  readonly cpu: Partial<Record<FlowService, number>>;
}

/** One measured corpus through the running services: notification → last record accepted, and each one's CPU. */
async function measureRound(
  flow: Flow,
  staging: ContainerClient,
  options: E2eBenchOptions,
  tag: string,
): Promise<Round> {
  const { corpus, rawBytes } = await ndjsonCorpus(flow.stack.endpoints.bucket, tag, options.records, options.objects);
  const etags = await flow.upload(corpus);
  const cpuBefore = cpuSeconds(flow.services);
  const startedAt = Date.now();
  await flow.announce(corpus, etags);
  await flow.waitDrained(corpus.expectedCount, 30 * 60_000);
  // la-uploader's CPU counts once the round's staged blobs are deleted too.
  await waitUntilEmpty(staging, 60_000);
  const cpuAfter = cpuSeconds(flow.services);
  const stats = flow.stack.logsIngestion.stats(flow.stream);
  const cpu: Partial<Record<FlowService, number>> = {};
  for (const name of FLOW_SERVICES) {
    const before = cpuBefore[name];
    const after = cpuAfter[name];
    if (before !== undefined && after !== undefined) cpu[name] = after - before;
  }
  return {
    seconds: ((stats.lastAcceptedAt ?? Date.now()) - startedAt) / 1000,
    firstMs: (stats.firstAcceptedAt ?? startedAt) - startedAt,
    accepted: stats.accepted,
    duplicates: stats.recordCount - options.records,
    rawBytes,
    cpu,
  };
}

/**
 * The best round's figures, as the floor is its best of three, with the range over all rounds beside them:
 * on a shared VM a single round can land on a slow stretch the floor did not.
 */
function roundRows(rounds: readonly Round[], options: E2eBenchOptions): Row[] {
  const { floor, records } = options;
  const n = rounds.length;
  const range = (values: number[], digits = 2) =>
    n > 1 ? ` (${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)} over ${n} rounds)` : '';
  const fastest = rounds.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rawMb = fastest.rawBytes / 1e6;
  const duplicates = rounds.reduce((d, r) => d + r.duplicates, 0);
  const rows: Row[] = [
    [
      'end to end (3 processes)',
      `${fmt(records / fastest.seconds)} rec/s`,
      `${(records / fastest.seconds / floor.recordsPerSec).toFixed(2)}× the floor${range(rounds.map((r) => records / r.seconds / floor.recordsPerSec))}; ${(rawMb / fastest.seconds).toFixed(1)} MB/s raw; ${records} records (${rawMb.toFixed(0)} MB) in ${fastest.seconds.toFixed(1)} s, notification → last record accepted`,
    ],
    [
      'first record in the sink',
      `${fmt(fastest.firstMs)} ms`,
      `${fastest.accepted} requests accepted a round; ${duplicates} duplicate record(s) over ${n} round(s)`,
    ],
  ];
  for (const name of FLOW_SERVICES) {
    const cpus = rounds.flatMap((r) => (r.cpu[name] === undefined ? [] : [r.cpu[name]]));
    if (cpus.length === 0) continue;
    const cpu = Math.min(...cpus);
    const perCpu = records / cpu;
    // la-uploader's cost is mostly per batch (its storage and sink requests), not per record.
    const perBatch =
      name === 'la-uploader' && fastest.accepted > 0
        ? `, ${((cpu * 1000) / fastest.accepted).toFixed(1)} ms per batch`
        : '';
    rows.push([
      `${name} CPU`,
      `${cpu.toFixed(1)} s`,
      cpu >= 0.1
        ? `${fmt(perCpu)} rec per CPU-second, ${(perCpu / floor.recordsPerCpuSec).toFixed(2)}× the floor's${range(cpus.map((c) => records / c / floor.recordsPerCpuSec))}${perBatch} (user + system, /proc; the least of the rounds)`
        : 'user + system, /proc',
    ]);
  }
  return rows;
}

/** `count` Code42-like records (the fetcher bench's generator) over `objects` gzip NDJSON objects. */
async function ndjsonCorpus(
  bucket: string,
  tag: string,
  count: number,
  objects: number,
): Promise<{ corpus: Corpus; rawBytes: number }> {
  const list: CorpusObject[] = [];
  let rawBytes = 0;
  const per = Math.ceil(count / objects);
  for (let from = 0, i = 0; from < count; from += per, i++) {
    const parts: Buffer[] = [];
    for await (const chunk of ndjsonChunks(from, Math.min(count, from + per))) parts.push(chunk);
    const raw = Buffer.concat(parts);
    rawBytes += raw.length;
    list.push({
      bucket,
      key: `bench/${tag}/part-${String(i).padStart(4, '0')}.json.gz`,
      body: gzipSync(raw, { level: 6 }),
      records: [],
      shape: 'gzip NDJSON',
    });
  }
  const corpus: Corpus = {
    bucket,
    objects: list,
    notifications: list.map((o) => (etags) => directNotification([s3Record(bucket, o.key, etags.get(o.key))])),
    deadLetters: [],
    refused: { bucket: '', key: '' },
    notNotifications: 0,
    expectedCount: count,
    expected: () => new Map(),
  };
  return { corpus, rawBytes };
}

/** Until la-uploader has deleted every staged blob (it deletes them in batches, after the messages settle). */
function waitUntilEmpty(container: ContainerClient, timeoutMs: number): Promise<true> {
  return waitUntil(
    'the staged blobs deleted',
    async () => {
      const page = await container.listBlobsFlat().byPage({ maxPageSize: 1 }).next();
      return page.done || page.value.segment.blobItems.length === 0;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** CPU seconds (user + system) each service process has used so far; Linux only (else empty). */
function cpuSeconds(
  services: Readonly<Record<FlowService, { readonly pid: number }>>,
): Partial<Record<FlowService, number>> {
  const out: Partial<Record<FlowService, number>> = {};
  for (const name of FLOW_SERVICES) {
    try {
      const stat = readFileSync(`/proc/${services[name].pid}/stat`, 'utf8');
      // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    } catch {
      // No procfs: the CPU rows are left out.
    }
  }
  return out;
}

/** The process's peak resident set (VmHWM), Linux only. */
function peakRssBytes(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

// USER_HZ is 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;
