import assert from 'node:assert/strict';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import {
  type MessageOf,
  type S3ObjectMessage,
  type StagedBatchMessage,
  TOPIC_SCHEMAS,
  type TopicName,
} from '@logferry/shared/messages/index';
import { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { WorkClaims } from '@logferry/shared/stores/work-claim';
import { startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import type { Delivery, Publisher } from '@logferry/shared/transport/port';
import type { FetcherSettings } from '../../src/fetch-object.ts';

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
