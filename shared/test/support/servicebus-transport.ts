// What the Service Bus transport's integration tests share: the project's stand-in broker on an edited copy of
// the deployed topology, transports whose log lines the test reads, and cleanups run after each test.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach } from 'node:test';
import { ServiceBusClient } from '@azure/service-bus';
import { DEFAULT_SERVICE_BUS_CONFIG_PATH, startServiceBusStandIn } from '@logferry/standins';
import { pino } from 'pino';
import type { IngestRequestMessage } from '../../src/messages/index.ts';
import { sampleStagedBatch } from '../../src/testing/staged-batches.ts';
import { waitUntil } from '../../src/testing/wait.ts';
import type { Handler, Subscription, Transport } from '../../src/transport/port.ts';
import { createServiceBusTransport } from '../../src/transport/servicebus/index.ts';

export type LogLine = { level: number; msg: string; [k: string]: unknown };

/** A debug-level logger whose lines the test reads back, parsed. */
export function captureLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0)
    await cleanups
      .pop()?.()
      .catch(() => undefined);
});

/** Runs after the current test, newest first. */
export function onCleanup(...steps: (() => Promise<unknown>)[]): void {
  cleanups.push(...steps);
}

interface Topic {
  Name: string;
  Subscriptions: { Name: string; Properties: Record<string, unknown> }[];
}

/** The deployed topology (deploy/servicebus/Config.json), its topics changed by `edit`, in a stand-in broker. */
export async function startBroker(edit: (topics: Topic[]) => Topic[] = (topics) => topics) {
  const config = JSON.parse(await readFile(DEFAULT_SERVICE_BUS_CONFIG_PATH, 'utf8'));
  for (const ns of config.UserConfig.Namespaces) ns.Topics = edit(ns.Topics);
  const dir = await mkdtemp(join(tmpdir(), 'logferry-sb-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const configPath = join(dir, 'Config.json');
  await writeFile(configPath, JSON.stringify(config));
  const broker = await startServiceBusStandIn({ port: 0, configPath, logger: pino({ level: 'silent' }) });
  onCleanup(() => broker.close());
  return broker;
}

/** Every subscription's properties (lock duration, max delivery count) overridden. */
export function withSubscriptionProperties(props: { LockDuration?: string; MaxDeliveryCount?: number }) {
  return (topics: Topic[]): Topic[] => {
    for (const topic of topics) for (const sub of topic.Subscriptions) Object.assign(sub.Properties, props);
    return topics;
  };
}

export type Broker = Awaited<ReturnType<typeof startBroker>>;

/** Resolves once the subscription holds nothing: no active, locked or scheduled message. */
export function drained(broker: Broker, topic: string, subscription: string, timeoutMs = 10_000): Promise<void> {
  return broker.waitFor(() => {
    const c = broker.counts(topic, subscription);
    return c.active === 0 && c.locked === 0 && c.scheduled === 0;
  }, timeoutMs);
}

/**
 * A consumer transport as adx-ingester (it consumes both topics these tests use) and, since the
 * manifest lets a service publish only where it does, a publisher as the CLI (which may publish anywhere).
 */
export function transportFor(connectionString: string, extra: { onUnrecoverable?: (err: unknown) => void } = {}) {
  const log = captureLogger();
  const transport = createServiceBusTransport({
    connection: { connectionString },
    logger: log.logger,
    service: 'adx-ingester',
    ...extra,
  });
  const publisher = createServiceBusTransport({ connection: { connectionString }, logger: log.logger, service: 'cli' });
  onCleanup(
    () => transport.close(),
    () => publisher.close(),
  );
  return { transport, publisher, ...log };
}

export function subscribe<T extends 'staged-batches' | 'ingest-requests'>(
  transport: Transport,
  topic: T,
  subscription: string,
  handler: Handler<T>,
  more: { concurrency?: number; maxAttempts?: number; maxLockRenewalMs?: number } = {},
): Subscription {
  const sub = transport.subscribe({
    topic,
    subscription,
    handler,
    concurrency: more.concurrency ?? 4,
    maxAttempts: more.maxAttempts ?? 5,
    backoff: { baseMs: 50, maxMs: 200 },
    maxLockRenewalMs: more.maxLockRenewalMs ?? 60_000,
  });
  onCleanup(() => sub.stop(0));
  return sub;
}

export const batch = sampleStagedBatch;

export const request = (id: string): IngestRequestMessage => ({
  type: 'ingest-request',
  schemaVersion: 1,
  id,
  producer: 'blob-scanner',
  time: new Date().toISOString(),
  container: 'data',
  blobName: `${id}.csv`,
  etag: '"0x1"',
  size: 42,
  attempt: 1,
});

/** `expected` dead-lettered messages as an operator would read them: through the SDK's dead-letter sub-queue. */
export async function readDeadLetters(connectionString: string, topic: string, subscription: string, expected: number) {
  const client = new ServiceBusClient(connectionString);
  const receiver = client.createReceiver(topic, subscription, {
    subQueueType: 'deadLetter',
    receiveMode: 'receiveAndDelete',
    skipParsingBodyAsJson: true,
  });
  const got: { messageId: string; reason?: string; description?: string; props: Record<string, unknown> }[] = [];
  try {
    return await waitUntil(
      `${expected} dead letters in ${topic}/${subscription}`,
      async () => {
        for (const m of await receiver.receiveMessages(expected - got.length, { maxWaitTimeInMs: 500 })) {
          got.push({
            messageId: String(m.messageId),
            reason: m.deadLetterReason,
            description: m.deadLetterErrorDescription,
            props: (m.applicationProperties ?? {}) as Record<string, unknown>,
          });
        }
        return got.length >= expected && got;
      },
      { timeoutMs: 10_000, intervalMs: 0, diagnostics: () => `got ${got.length}` },
    );
  } finally {
    await receiver.close();
    await client.close();
  }
}
