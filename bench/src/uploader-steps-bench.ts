import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { laUploaderVars } from '@logferry/shared/config/services/la-uploader';
import { s3FetcherVars } from '@logferry/shared/config/services/s3-fetcher';
import type { StagedBatchMessage } from '@logferry/shared/messages/index';
import { BatchClaims } from '@logferry/shared/stores/batch-claim';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { startAzurite } from '@logferry/shared/testing';
import { stageJsonArrayBatch } from '@logferry/shared/testing/staged-batches';
import { outcome } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { pino } from 'pino';
import { createLogsIngestionClient } from '../../services/la-uploader/src/logs-ingestion-client.ts';
import { createStagedBatchSource } from '../../services/la-uploader/src/staged-batch-reader.ts';
import { createStagedBlobDeleter } from '../../services/la-uploader/src/staged-blob-deleter.ts';
import type { FloorRates } from './fetcher-bench.ts';
import { ndjsonChunks } from './fetcher-corpus.ts';
import { fmt, type Row } from './table.ts';

export interface UploaderStepsOptions {
  readonly progress: (line: string) => void;
  readonly floor: FloorRates;
  /** Batches each step is measured over (BENCH_STEP_BATCHES, default 400), after `warm` unmeasured ones. */
  readonly batches: number;
  /** Default 100. */
  readonly warm?: number;
  /** Records per batch in the end-to-end run (enriched records are larger), for a ratio comparable to its own. */
  readonly recordsPerBatch?: number | undefined;
}

// What s3-fetcher stages by default: records up to MAX_BATCH_BYTES as one JSON array; la-uploader's default bound.
const BATCH_BYTES = s3FetcherVars.MAX_BATCH_BYTES.schema.parse(undefined);
const MAX_STAGED_BATCH_BYTES = laUploaderVars.MAX_STAGED_BATCH_BYTES.schema.parse(undefined);

/**
 * What one staged batch costs la-uploader, step by step: each request it makes for a batch, run alone and in
 * sequence (one at a time, nothing else busy), its CPU read from this process, the client. The stand-ins it
 * talks to (Azurite, Service Bus, Logs Ingestion in count-only mode) run as child processes, so their CPU is
 * not counted. Side by side with the end-to-end figure, it tells the requests' own cost from what running
 * beside five other processes on two cores adds.
 */
export async function runUploaderStepsBench(options: UploaderStepsOptions): Promise<Row[]> {
  const { progress } = options;
  progress('la-uploader steps: starting Azurite, Service Bus and Logs Ingestion stand-ins as processes');
  const children: ChildProcess[] = [];
  const azurite = await startAzurite();
  try {
    const bus = await startChild(children, 'servicebus/cli.ts', ['--port', '0'], (line) => line);
    const sink = await startChild(children, 'logs-ingestion/cli.ts', ['--count-only'], (line) => {
      return JSON.parse(line) as { endpoint: string; caCertPath: string };
    });
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const container = blobs.getContainerClient('staging');
    await container.createIfNotExists();
    const table = TableClient.fromConnectionString(azurite.connectionString, 'benchsteps', {
      allowInsecureConnection: true,
    });
    await new BatchStatusStore(table).ensureTable();
    const records = await corpusBatch();
    const warm = options.warm ?? 100;
    const total = options.batches + warm;
    progress(`la-uploader steps: staging ${total} batches of ${records.length} records`);
    const messages: StagedBatchMessage[] = [];
    for (let i = 0; i < total; i++) {
      messages.push(
        await stageJsonArrayBatch(container, { objectId: `bench/steps@${i}`, batchIndex: 0, source: 'Bench', records }),
      );
    }
    const staging = createStagedBatchSource(blobs, MAX_STAGED_BATCH_BYTES);
    const claims = new BatchClaims(table, { leaseMs: 60_000, owner: 'bench' });
    const client = createLogsIngestionClient({
      endpoint: sink.value.endpoint,
      ruleId: 'dcr-00000000000000000000000000000000',
      stream: 'Custom-Code42FileEvents_CL',
      credential: { getToken: async () => ({ token: 'local', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      timeoutMs: 30_000,
      ca: readFileSync(sink.value.caCertPath, 'utf8'),
    });
    const bodies: Buffer[] = [];
    const steps: [string, number][] = [];
    // Measured for the comparison only, not in the sum: what a step cost before la-uploader changed it.
    const before: [string, number][] = [];
    const step = async (name: string, run: (m: StagedBatchMessage, i: number) => Promise<unknown>) => {
      progress(`la-uploader steps: ${name}`);
      steps.push([name, await cpuPerCall(messages, warm, run)]);
    };
    await step('Service Bus: receive, lock and complete the message', await serviceBusStep(bus.value, messages));
    await step('status table: claim (insert) and mark uploaded', async (m) => {
      const claimed = await claims.acquire({
        batchId: m.id,
        records: m.recordCount,
        stream: 's',
        objectId: m.objectId,
      });
      if (claimed.kind !== 'claimed') throw new Error(`batch ${m.id} not claimed: ${claimed.kind}`);
      await claimed.claim.markUploaded({ records: m.recordCount, requests: 1 });
    });
    await step('staged blob: download', async (m, i) => {
      const read = await staging.read(m);
      if (read.kind !== 'ok' || !read.records.whole) throw new Error(`staged blob not read: ${read.kind}`);
      bodies[i] = read.records.whole;
    });
    await step('Logs Ingestion: POST the blob as it is (TLS)', async (_m, i) => {
      const answer = await client.upload(bodies[i]!);
      if (answer.kind !== 'accepted') throw new Error(`sink answered ${answer.kind}`);
    });
    progress('la-uploader steps: staged blob: delete, one request each');
    before.push([
      'staged blob: delete, one request each (before)',
      await cpuPerCall(messages, warm, (m) => container.getBlobClient(m.blobName).deleteIfExists()),
    ]);
    progress('la-uploader steps: staged blob: delete, queued for Blob Batch requests');
    steps.push([
      `staged blob: delete, in Blob Batch requests of ${DELETE_BATCH}`,
      // Whole requests, as under load: a partial last one would charge its fixed cost to a few blobs.
      await cpuPerBatchedDelete(blobs, container, records, Math.ceil(options.batches / DELETE_BATCH) * DELETE_BATCH),
    ]);
    client.close();

    const sum = steps.reduce((n, [, ms]) => n + ms, 0);
    const perBatch = options.recordsPerBatch ?? records.length;
    const perCpuSec = perBatch / (sum / 1000);
    return [
      ...steps.map(([name, ms]): Row => [name, `${ms.toFixed(2)} ms`, 'CPU per batch, alone']),
      ...before.map(([name, ms]): Row => {
        const now = steps.at(-1)?.[1] ?? ms;
        return [name, `${ms.toFixed(2)} ms`, `not in the sum: ${(ms / now).toFixed(1)}× the batched delete's CPU`];
      }),
      [
        'sum of the steps',
        `${sum.toFixed(2)} ms`,
        `${fmt(perCpuSec)} rec per CPU-second at ${Math.round(perBatch)} records a batch (${options.recordsPerBatch ? 'as end to end' : 'this corpus'}), ${(perCpuSec / options.floor.recordsPerCpuSec).toFixed(2)}× the floor's: the requests' own cost, without the flow's contention`,
      ],
    ];
  } finally {
    for (const child of children) child.kill();
    await azurite.stop();
  }
}

/** Deletes per Blob Batch request (the API's most, and la-uploader's default). */
const DELETE_BATCH = 256;

/**
 * Client CPU per blob of la-uploader's deleter: blobs staged for it (a first request's worth unmeasured, for
 * the JIT), queued as the handler queues them, then flushed; requests go as each fills.
 */
async function cpuPerBatchedDelete(
  blobs: BlobServiceClient,
  container: ContainerClient,
  records: readonly object[],
  count: number,
): Promise<number> {
  const messages: StagedBatchMessage[] = [];
  for (let i = 0; i < DELETE_BATCH + count; i++) {
    messages.push(
      await stageJsonArrayBatch(container, { objectId: `bench/delete@${i}`, batchIndex: 0, source: 'Bench', records }),
    );
  }
  const deleter = createStagedBlobDeleter(blobs, { logger: pino({ level: 'silent' }), delayMs: 60_000 });
  const run = async (batch: readonly StagedBatchMessage[]) => {
    for (const m of batch) deleter.delete(m.blobContainer, m.blobName);
    await deleter.flush();
  };
  await run(messages.slice(0, DELETE_BATCH));
  const started = process.cpuUsage();
  await run(messages.slice(DELETE_BATCH));
  const used = process.cpuUsage(started);
  if (deleter.counts.deleted !== messages.length) {
    throw new Error(`the deleter deleted ${deleter.counts.deleted} of ${messages.length} blobs`);
  }
  return (used.user + used.system) / 1000 / count;
}

/** Client CPU per call, after `warm` unmeasured calls; calls run one at a time. */
async function cpuPerCall<T>(items: readonly T[], warm: number, run: (item: T, i: number) => Promise<unknown>) {
  for (let i = 0; i < warm; i++) await run(items[i]!, i);
  const before = process.cpuUsage();
  for (let i = warm; i < items.length; i++) await run(items[i]!, i);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / (items.length - warm);
}

/** A step whose calls resolve as la-uploader's subscription hands each published message to its handler. */
async function serviceBusStep(
  connectionString: string,
  messages: readonly StagedBatchMessage[],
): Promise<(m: StagedBatchMessage) => Promise<void>> {
  const transport = (service: 's3-fetcher' | 'la-uploader') =>
    createServiceBusTransport({ connection: { connectionString }, logger: pino({ level: 'silent' }), service });
  const producer = transport('s3-fetcher');
  for (let i = 0; i < messages.length; i += 50) await producer.publish('staged-batches', messages.slice(i, i + 50));
  await producer.close();
  const consumer = transport('la-uploader');
  // The handler waits for its step call, so each call measures one message: handed over, then completed.
  const gate = deferreds();
  const handled = deferreds();
  const sub = consumer.subscribe({
    topic: 'staged-batches',
    subscription: 'la-uploader',
    concurrency: 1,
    maxAttempts: 3,
    backoff: { baseMs: 50, maxMs: 150 },
    maxLockRenewalMs: 30_000,
    dependencies: [],
    handler: async (delivery) => {
      await gate.wait(delivery.body.id);
      handled.resolve(delivery.body.id);
      return outcome.success();
    },
  });
  let left = messages.length;
  return async (m) => {
    gate.resolve(m.id);
    await handled.wait(m.id);
    if (--left === 0) {
      await sub.stop(5_000);
      await consumer.close();
    }
  };
}

/** Promises by key, resolved by whichever side comes second. */
function deferreds(): { wait(key: string): Promise<void>; resolve(key: string): void } {
  const entries = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  const entry = (key: string) => {
    let e = entries.get(key);
    if (!e) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      e = { promise, resolve };
      entries.set(key, e);
    }
    return e;
  };
  return { wait: (key) => entry(key).promise, resolve: (key) => entry(key).resolve() };
}

/** Corpus records (the fetcher bench's generator) filling one batch of BATCH_BYTES. */
async function corpusBatch(): Promise<object[]> {
  const records: object[] = [];
  let bytes = 2;
  for await (const chunk of ndjsonChunks(0, 2_000)) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      if (bytes + line.length + 1 > BATCH_BYTES) return records;
      records.push(JSON.parse(line) as object);
      bytes += line.length + 1;
    }
  }
  return records;
}

/** Starts a stand-in's CLI (standins/src/<script>) as a child process and reads the first line it prints. */
async function startChild<T>(
  children: ChildProcess[],
  script: string,
  args: readonly string[],
  parse: (firstLine: string) => T,
): Promise<{ value: T }> {
  const path = fileURLToPath(new URL(`../../standins/src/${script}`, import.meta.url));
  // Warnings and errors still reach the terminal; a stand-in's info lines would break up the bench's table.
  const child = spawn(process.execPath, [path, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
  });
  children.push(child);
  const first = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl).trim());
    });
    child.once('exit', (code) => reject(new Error(`${script} exited (${code}) before it printed its address`)));
  });
  return { value: parse(first) };
}
