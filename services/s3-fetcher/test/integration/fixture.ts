import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import {
  type MessageOf,
  type S3ObjectMessage,
  type StagedBatchMessage,
  TOPIC_SCHEMAS,
  type TopicName,
} from '@logferry/shared/messages/index';
import type { RouteTable } from '@logferry/shared/routes/index';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { WorkClaims } from '@logferry/shared/stores/work-claim';
import {
  type RecordedStageMetrics,
  stagedRecords as readStagedRecords,
  recordingStageMetrics,
  startAzurite,
  startFauxqsServer,
} from '@logferry/shared/testing';
import type { Delivery, Handler, Publisher } from '@logferry/shared/transport/port';
import { createFetchObjectHandler, type FetcherSettings, type FetchObjectDeps } from '../../src/fetch-object.ts';
import type { Rec } from './corpus.ts';

export const SETTINGS: FetcherSettings = {
  maxDecompressedBytes: 1024 ** 3,
  maxBatchBytes: 950_000,
  maxBatchRecords: 5_000,
  gzipLevel: 1,
  uploadConcurrency: 3,
  publishGroupSize: 10,
  badRecordSamples: 5,
};

/** Keeps what the handler publishes, checked against the topic's schema as the transport would. */
export class RecordingPublisher implements Publisher {
  readonly messages: StagedBatchMessage[] = [];
  failAfter = Number.POSITIVE_INFINITY;
  async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    assert.equal(topic, 'staged-batches');
    if (this.messages.length + messages.length > this.failAfter) throw new Error('broker unavailable');
    for (const m of messages) this.messages.push(TOPIC_SCHEMAS['staged-batches'].parse(m));
  }
  of(objectIdPrefix: string): StagedBatchMessage[] {
    return this.messages.filter((m) => m.objectId.startsWith(objectIdPrefix));
  }
}

export function delivery(
  body: S3ObjectMessage,
  signal: AbortSignal = new AbortController().signal,
): Delivery<S3ObjectMessage> {
  return {
    body,
    messageId: body.id,
    deliveryCount: 1,
    attempt: 1,
    enqueuedAt: new Date(),
    traceparent: undefined,
    signal,
  };
}

export interface FetcherStores {
  readonly s3: S3Client;
  readonly container: ContainerClient;
  readonly status: ObjectStatusStore;
  readonly claims: WorkClaims;
  stop(): Promise<void>;
}

/** fauxqs with the bucket, Azurite with the staging container, the status table and claims on it. */
export async function startFetcherStores(bucket: string): Promise<FetcherStores> {
  const [fauxqs, azurite] = await Promise.all([startFauxqsServer(), startAzurite()]);
  const s3 = fauxqs.s3();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
  await container.createIfNotExists();
  const status = new ObjectStatusStore(
    TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
  );
  await status.ensureTable();
  const claims = new WorkClaims(
    TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    { scope: 's3obj', leaseMs: 5_000, owner: 'test' },
  );
  return { s3, container, status, claims, stop: async () => void (await Promise.all([fauxqs.stop(), azurite.stop()])) };
}

/** What a test sets of the handler's dependencies; the publisher, when given, is one the test records with. */
export type HandlerOverrides = Partial<Omit<FetchObjectDeps, 'publisher'>> & {
  readonly publisher?: RecordingPublisher;
};

export interface FetcherHarness {
  /** The stores, once the suite's before hook started them. */
  readonly stores: FetcherStores;
  /** Puts the object and returns the notification sqs-poller would publish for it (ETag unquoted). */
  put(key: string, body: Buffer, bucket?: string): Promise<S3ObjectMessage>;
  /** The notification for a key, put or not (a missing object, a bucket outside the allow-list). */
  message(key: string, etag: string | undefined, bucket?: string): S3ObjectMessage;
  /** A handler over the stores with a fresh publisher and metrics recorder, unless given. */
  handler(overrides?: HandlerOverrides): {
    readonly handler: Handler<'s3-objects'>;
    readonly publisher: RecordingPublisher;
    readonly seen: RecordedStageMetrics;
  };
  /** Every record of the batches, in order. */
  staged(messages: readonly StagedBatchMessage[]): Promise<Rec[]>;
}

/**
 * Registers the suite's before/after hooks (fauxqs and Azurite for `bucket`) and the helpers every s3-fetcher
 * handler test uses; `eventTime` is what the notifications announce.
 */
export function useFetcherHarness(options: {
  readonly bucket: string;
  readonly routes: RouteTable;
  readonly eventTime: string;
}): FetcherHarness {
  const logger = createLogger('s3-fetcher', { level: process.env.LOG_LEVEL ?? 'silent' });
  let started: FetcherStores | undefined;
  before(async () => {
    started = await startFetcherStores(options.bucket);
  });
  after(async () => {
    await started?.stop();
  });
  const stores = (): FetcherStores => {
    assert.ok(started, "the stores start in the suite's before hook");
    return started;
  };
  const message = (key: string, etag: string | undefined, bucket = options.bucket): S3ObjectMessage => ({
    type: 's3-object',
    schemaVersion: 1,
    id: `msg-${key}`,
    producer: 'sqs-poller',
    time: new Date().toISOString(),
    bucket,
    key,
    ...(etag ? { etag: etag.replaceAll('"', '') } : {}),
    eventTime: options.eventTime,
    origin: 's3-notification',
  });
  return {
    get stores() {
      return stores();
    },
    message,
    async put(key, body, bucket = options.bucket) {
      const put = await stores().s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      return message(key, put.ETag, bucket);
    },
    handler(overrides = {}) {
      const { s3, container, status, claims } = stores();
      const { seen, metrics } = recordingStageMetrics();
      const publisher = overrides.publisher ?? new RecordingPublisher();
      const handler = createFetchObjectHandler({
        s3,
        container,
        status,
        claims,
        logger,
        settings: SETTINGS,
        routes: options.routes,
        metrics,
        ...overrides,
        publisher,
      });
      return { handler, publisher, seen };
    },
    async staged(messages) {
      const out: Rec[] = [];
      for (const m of messages) out.push(...((await readStagedRecords(stores().container, m)) as Rec[]));
      return out;
    },
  };
}
