import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { loadMappings } from '@logferry/shared/mappings/index';
import {
  type IngestRequestMessage,
  ingestRequestMessage,
  type MessageOf,
  type StagedBatchMessage,
  type TopicName,
} from '@logferry/shared/messages/index';
import { type BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { type AzuriteHandle, startAzurite, waitUntil } from '@logferry/shared/testing';
import type { Delivery, Outcome, Publisher } from '@logferry/shared/transport/port';
import { type AdxStandIn, startAdxStandIn } from '@logferry/standins';
import { ReportReader } from '../../../completion-checker/src/report-reader.ts';
import { StatusQueueProvider } from '../../../completion-checker/src/status-queues.ts';
import { createBlobUrlFor } from '../../src/blob-url.ts';
import { createIngestRequestHandler } from '../../src/handle-ingest-request.ts';
import { createStagedBatchHandler } from '../../src/handle-staged-batch.ts';
import { createKustoIngestor } from '../../src/kusto-ingestor.ts';

// The Blob → ADX flow past the scanner, on Azurite and the ADX stand-in: adx-ingester's handlers and
// completion-checker's report reader, wired as their main.ts files wire them, shared by the adx-flow-* tests.

export const logger = createLogger('test', { level: 'silent' });
export const mappings = loadMappings(new URL('../../../../mappings.json', import.meta.url).pathname);
export const FLOWS_HEADER = 'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n';

/** A TrafficFlows CSV with a header and `count` records. */
export const flows = (count: number) =>
  FLOWS_HEADER +
  Array.from(
    { length: count },
    (_, i) => `2024-05-01T10:00:0${i}Z,10.0.0.${i},192.0.2.1,5000${i},443,TCP,${100 + i},1,Allow\n`,
  ).join('');

export class RecordingPublisher implements Publisher {
  readonly sent: { topic: TopicName; message: unknown }[] = [];
  async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    for (const message of messages) this.sent.push({ topic, message });
  }
  of<T extends TopicName>(topic: T): MessageOf<T>[] {
    return this.sent.filter((s) => s.topic === topic).map((s) => s.message as MessageOf<T>);
  }
}

export function delivery<T>(body: T): Delivery<T> {
  return {
    body,
    messageId: randomUUID(),
    deliveryCount: 1,
    attempt: 1,
    enqueuedAt: new Date(),
    traceparent: undefined,
    signal: new AbortController().signal,
  };
}

/** A client of the status table the flow uses (for tests that reach under the store). */
export function statusTableOf(azurite: AzuriteHandle): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, 'status', { allowInsecureConnection: true });
}

export interface AdxFlow {
  readonly azurite: AzuriteHandle;
  readonly adx: AdxStandIn;
  /** The `data` container the scanner would list. */
  readonly data: ContainerClient;
  readonly store: BlobStatusStore;
  readonly publisher: RecordingPublisher;
  readonly queues: StatusQueueProvider;
  readonly reader: ReportReader;
  readonly handlerDeps: Parameters<typeof createIngestRequestHandler>[0];
  handle(request: IngestRequestMessage): Promise<Outcome>;
  handleBatch(batch: StagedBatchMessage): Promise<Outcome>;
  /** What blob-scanner does: upload, claim, publish the request; here the request goes straight to the handler. */
  uploadAndRequest(name: string, body: string | Buffer): Promise<{ outcome: Outcome; request: IngestRequestMessage }>;
  /** The first attempt's request for a claimed blob, as blob-scanner publishes it. */
  requestOf(ref: { name: string; etag: string; size: number }): IngestRequestMessage;
  /** Reads reports until the row satisfies `done` (default: leaves queued/ingesting), within a bounded time. */
  settle(name: string, done?: (row: BlobStatusRow) => boolean): Promise<BlobStatusRow>;
  close(): Promise<void>;
}

export async function startAdxFlow(): Promise<AdxFlow> {
  const azurite = await startAzurite();
  const adx = await startAdxStandIn({ storageConnectionString: azurite.connectionString, pollIntervalMs: 50 });
  const blobService = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const data = blobService.getContainerClient('data');
  await data.create();
  const store = new BlobStatusStore(statusTableOf(azurite));
  await store.ensureTable();
  const publisher = new RecordingPublisher();
  const ingestor = createKustoIngestor({
    ingestUri: adx.endpoint,
    database: 'logs',
    auth: { kind: 'none' },
    reportLevel: 'FailuresAndSuccesses',
  });
  const blobUrlFor = createBlobUrlFor({
    blobService,
    mode: 'sas',
    hasAccountKey: true,
    identity: 'system',
    sasTtlMs: 3600_000,
  });
  const handlerDeps = { store, ingestor, blobUrlFor, publisher, logger, mappings, maxAttempts: 3 };
  const requestHandler = createIngestRequestHandler(handlerDeps);
  const batchHandler = createStagedBatchHandler({
    ...handlerDeps,
    container: (name) => blobService.getContainerClient(name),
  });
  const queues = new StatusQueueProvider({ ingestUri: adx.endpoint, auth: { kind: 'none' }, refreshMs: 60_000 });
  const reader = new ReportReader({
    store,
    publisher,
    logger,
    queues: () => queues.get(),
    batchSize: 32,
    visibilityTimeoutS: 30,
    foreignReports: 'hide',
    foreignHideS: 3600,
  });

  const handle = (request: IngestRequestMessage) => requestHandler(delivery(request));
  const requestOf = (ref: { name: string; etag: string; size: number }): IngestRequestMessage =>
    ingestRequestMessage(
      { id: randomUUID(), producer: 'blob-scanner' },
      { container: 'data', blobName: ref.name, etag: ref.etag, size: ref.size, attempt: 1, scanId: 'scan-1' },
    );
  return {
    azurite,
    adx,
    data,
    store,
    publisher,
    queues,
    reader,
    handlerDeps,
    handle,
    handleBatch: (batch) => batchHandler(delivery(batch)),
    requestOf,
    async uploadAndRequest(name, body) {
      const uploaded = await data.getBlockBlobClient(name).upload(body, Buffer.byteLength(body));
      const ref = { container: 'data', name, etag: uploaded.etag ?? '', size: Buffer.byteLength(body) };
      const claim = await store.claim(ref, 'scan-1', 3);
      assert.equal(claim.outcome, 'claimed');
      const request = requestOf(ref);
      return { outcome: await handle(request), request };
    },
    settle(name, done = (row) => !['queued', 'ingesting'].includes(row.status)) {
      let row: BlobStatusRow | undefined;
      return waitUntil(
        `row ${name} to settle`,
        async () => {
          await reader.pollOnce();
          row = await store.get('data', name);
          return row !== undefined && done(row) && row;
        },
        { timeoutMs: 10_000, intervalMs: 0, diagnostics: () => `it is still ${row?.status}` },
      );
    },
    async close() {
      ingestor.close();
      queues.close();
      await adx.close();
      await azurite.stop();
    },
  };
}

/** A loopback port nothing listens on: connections are refused at once. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
