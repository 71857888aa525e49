import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { waitUntil } from '@logferry/shared/testing/wait';
import {
  DEFAULT_SERVICE_BUS_CONFIG_PATH,
  type LocalStack,
  type ServiceProcess,
  startLocalStack,
  startServiceProcess,
} from '@logferry/standins';
import { type IdentityEndpoint, startIdentityEndpoint } from './identity-endpoint.ts';
import type { Corpus } from './s3-corpus.ts';
import { describeDiff, diffRecords, type RecordDiff, sinkMultiset } from './s3-records.ts';

/** The S3 → Log Analytics flow's services, consumers first so nothing waits on a missing reader. */
export const FLOW_SERVICES = ['la-uploader', 's3-fetcher', 'sqs-poller'] as const;
export type FlowService = (typeof FLOW_SERVICES)[number];

export interface FlowOptions {
  /** Service Bus lock duration (ISO 8601). Short, so a killed consumer's messages come back soon. */
  readonly lockDuration?: string;
  /** Run the AWS-facing services with AWS_ROLE_ARN and no AWS keys: Azure token → STS web identity. */
  readonly webIdentity?: boolean;
  readonly env?: Partial<Record<FlowService, Record<string, string>>>;
  /** The Logs Ingestion stand-in counts records without parsing or keeping them (benchmarks). */
  readonly countOnlySink?: boolean;
  /** Run sqs-poller and s3-fetcher with this routes file (the stand-in then knows its streams). */
  readonly routesFile?: string;
  /** Adds a `test-tap` subscription on staged-batches, for tests that copy or watch the batches. */
  readonly tapStagedBatches?: boolean;
}

export interface Flow {
  readonly stack: LocalStack;
  readonly services: Readonly<Record<FlowService, ServiceProcess>>;
  /** The DCR stream la-uploader posts to. */
  readonly stream: string;
  readonly identity: IdentityEndpoint | undefined;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** Uploads the corpus's objects; the ETags by key, for the notifications. */
  upload(corpus: Corpus): Promise<Map<string, string>>;
  announce(corpus: Corpus, etags: ReadonlyMap<string, string>): Promise<void>;
  queueDepth(url?: string): Promise<{ visible: number; inFlight: number }>;
  /** Resolves when the sink holds `count` records, both subscriptions are idle and the SQS queue is empty. */
  waitDrained(count: number, timeoutMs: number): Promise<void>;
  /** Every service process, then every stand-in. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The shared local stack (fauxqs, Azurite, Service Bus, Logs Ingestion and STS stand-ins) with the three
 * services started as separate processes, as in production. Logs land in `<stack.logDir>/<service>.log`.
 */
export async function startFlow(options: FlowOptions = {}): Promise<Flow> {
  const identity = options.webIdentity ? await startIdentityEndpoint() : undefined;
  let stack: LocalStack | undefined;
  const started: ServiceProcess[] = [];
  const baseDir = await mkdtemp(join(tmpdir(), 'logferry-e2e-'));
  const stopAll = async () => {
    await Promise.all(started.map((p) => p.stop('SIGTERM', 10_000).catch(() => undefined)));
    await stack?.stop();
    await identity?.close();
    // KEEP_E2E_LOGS=1 keeps the services' log files for a post-mortem.
    if (!process.env.KEEP_E2E_LOGS) await rm(baseDir, { recursive: true, force: true });
  };
  try {
    const configPath = join(baseDir, 'servicebus-config.json');
    await writeFile(
      configPath,
      await serviceBusConfig(options.lockDuration ?? 'PT10S', options.tapStagedBatches ?? false),
    );
    stack = await startLocalStack({
      baseDir,
      serviceBusConfigPath: configPath,
      ...(options.countOnlySink ? { countOnlySink: true } : {}),
      ...(options.routesFile ? { routesFile: options.routesFile } : {}),
    });
    const s = stack;
    const services = {} as Record<FlowService, ServiceProcess>;
    for (const name of FLOW_SERVICES) {
      const p = await startServiceProcess(name, envFor(s, name, options, identity), { logDir: s.logDir });
      started.push(p);
      services[name] = p;
    }
    await Promise.all(started.map((p) => p.waitForReady(60_000)));
    const sqs = s.fauxqs.sqs();
    const s3 = s.fauxqs.s3();
    const queueDepth = async (url = s.endpoints.sqsQueueUrl) => {
      const a =
        (
          await sqs.send(
            new GetQueueAttributesCommand({
              QueueUrl: url,
              AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
            }),
          )
        ).Attributes ?? {};
      return {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    };
    let stopping: Promise<void> | undefined;
    return {
      stack: s,
      services,
      stream: s.endpoints.dcrStream,
      identity,
      sqs,
      s3,
      async upload(corpus) {
        const etags = new Map<string, string>();
        for (const o of corpus.objects) {
          const put = await s3.send(new PutObjectCommand({ Bucket: o.bucket, Key: o.key, Body: o.body }));
          etags.set(o.key, (put.ETag ?? '').replaceAll('"', ''));
        }
        return etags;
      },
      async announce(corpus, etags) {
        const bodies = corpus.notifications.map((n) => n(etags));
        for (let i = 0; i < bodies.length; i += 10) {
          const entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({ Id: `n${i + j}`, MessageBody }));
          const r = await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: s.endpoints.sqsQueueUrl, Entries: entries }),
          );
          if (r.Failed?.length) throw new Error(`SQS refused notifications: ${JSON.stringify(r.Failed)}`);
        }
      },
      queueDepth,
      async waitDrained(count, timeoutMs) {
        const idle = (topic: string, sub: string) => {
          const c = s.serviceBus.counts(topic, sub);
          return c.active === 0 && c.locked === 0 && c.scheduled === 0;
        };
        await waitUntil(
          'the flow to drain',
          async () => {
            if (s.logsIngestion.stats(s.endpoints.dcrStream).recordCount < count) return false;
            if (!idle('s3-objects', 's3-fetcher') || !idle('staged-batches', 'la-uploader')) return false;
            const q = await queueDepth();
            return q.visible === 0 && q.inFlight === 0;
          },
          {
            timeoutMs: timeoutMs,
            intervalMs: 100,
            diagnostics: () =>
              `flow not drained: sink ${s.logsIngestion.stats(s.endpoints.dcrStream).recordCount}/${count} records, ` +
              `s3-objects ${JSON.stringify(s.serviceBus.counts('s3-objects', 's3-fetcher'))}, ` +
              `staged-batches ${JSON.stringify(s.serviceBus.counts('staged-batches', 'la-uploader'))}\n` +
              FLOW_SERVICES.map((n) => `--- ${n}\n${services[n].output().split('\n').slice(-8).join('\n')}`).join('\n'),
          },
        );
      },
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

function envFor(
  stack: LocalStack,
  name: FlowService,
  options: FlowOptions,
  identity: IdentityEndpoint | undefined,
): Record<string, string> {
  const tuned: Record<FlowService, Record<string, string>> = {
    // A left (unreadable) message comes back after 2 s, so the redrive policy moves it within the test.
    'sqs-poller': { VISIBILITY_TIMEOUT_SECONDS: '2' },
    's3-fetcher': { RETRY_BASE_MS: '200', RETRY_MAX_MS: '2000' },
    'la-uploader': { RETRY_BASE_MS: '200', RETRY_MAX_MS: '2000' },
  };
  const env = { ...stack.serviceEnv(name), ...tuned[name], ...(options.env?.[name] ?? {}) };
  if (identity && name !== 'la-uploader') {
    // No AWS key at all: only the web-identity exchange can give these processes AWS credentials.
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    Object.assign(env, identity.env, { AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/logferry-e2e-reader' });
  }
  return env;
}

/** The repository's Service Bus topology with every lock shortened (a test cannot wait a minute per crash). */
async function serviceBusConfig(lockDuration: string, tap: boolean): Promise<string> {
  const text = await readFile(DEFAULT_SERVICE_BUS_CONFIG_PATH, 'utf8');
  const shortened = text.replace(/"LockDuration":\s*"[^"]*"/g, `"LockDuration": "${lockDuration}"`);
  if (!tap) return shortened;
  const config = JSON.parse(shortened);
  for (const ns of config.UserConfig.Namespaces) {
    const topic = ns.Topics.find((t: { Name: string }) => t.Name === 'staged-batches');
    topic?.Subscriptions.push({ Name: TAP_SUBSCRIPTION, Properties: { LockDuration: lockDuration } });
  }
  return JSON.stringify(config);
}

export const TAP_SUBSCRIPTION = 'test-tap';

/** What the sink's stream holds against what the corpus should put there (each record enriched), noted on `t`. */
export function sinkDiff(flow: Flow, corpus: Corpus, t: TestContext): RecordDiff {
  const got = sinkMultiset(flow.stack.logsIngestion.records(flow.stream));
  assert.deepEqual(got.problems, []);
  const diff = diffRecords(corpus.expected(), got.set);
  t.diagnostic(describeDiff(diff));
  return diff;
}
