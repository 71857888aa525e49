import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger, type Delivery, type Outcome, type StagedBatchMessage } from '@logferry/shared';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '@logferry/standins';
import {
  createStagedBatchHandler,
  type StagedBatchHandlerDeps,
  uploaderStageMetrics,
} from '../../src/handle-staged-batch.ts';
import { createLogsIngestionClient, type LogsIngestionClient } from '../../src/logs-ingestion-client.ts';
import { createStagedBatchSource } from '../../src/staged-batch-reader.ts';

const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const STREAM = 'Custom-Code42Events_CL';
const CONTAINER = 'staging';
const credential: TokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

function recordingStage() {
  const seen = { records: 0, bytes: 0, duplicates: 0, failures: [] as string[] };
  const metrics: StageMetrics = {
    records: (n) => {
      seen.records += n;
    },
    bytes: (n) => {
      seen.bytes += n;
    },
    failure: (reason) => {
      seen.failures.push(reason);
    },
    duplicate: (n = 1) => {
      seen.duplicates += n;
    },
  };
  return { seen, metrics };
}

describe('la-uploader handler metrics', () => {
  let azurite: AzuriteHandle;
  let standIn: LogsIngestionStandIn;
  let container: ContainerClient;
  let client: LogsIngestionClient;
  let deps: StagedBatchHandlerDeps;

  before(async () => {
    [azurite, standIn] = await Promise.all([startAzurite(), startLogsIngestionStandIn({ port: 0 })]);
    const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    container = blobs.getContainerClient(CONTAINER);
    await container.createIfNotExists();
    const status = new BatchStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    );
    await status.ensureTable();
    client = createLogsIngestionClient({
      endpoint: standIn.endpoint,
      ruleId: DCR,
      stream: STREAM,
      credential,
      timeoutMs: 5_000,
      ca: standIn.caCertPem,
    });
    deps = {
      status,
      staging: createStagedBatchSource(blobs, 64 * 1024 * 1024),
      client,
      stream: STREAM,
      retention: 'delete',
      policy: { maxRequestBytes: 1_000_000, inlineRetryMs: 5_000, backoff: { baseMs: 10, maxMs: 50 } },
      logger: createLogger('la-uploader-test', { level: 'silent' }),
    };
  });
  after(async () => {
    client?.close();
    await Promise.all([standIn?.close(), azurite?.stop()]);
  });
  beforeEach(() => standIn.reset());

  async function stage(records: readonly object[]): Promise<StagedBatchMessage> {
    const batchId = `obj-${randomUUID()}#0`;
    const ndjson = records.map((r) => `${JSON.stringify(r)}\n`).join('');
    const blobName = `batches/${encodeURIComponent(batchId)}.ndjson.gz`;
    const gz = gzipSync(ndjson);
    await container.getBlockBlobClient(blobName).uploadData(gz);
    return {
      type: 'staged-batch',
      schemaVersion: 1,
      id: batchId,
      producer: 's3-fetcher',
      time: new Date().toISOString(),
      objectId: 'bucket/key@v1',
      batchIndex: 0,
      lastBatch: true,
      blobContainer: CONTAINER,
      blobName,
      recordCount: records.length,
      rawBytes: Buffer.byteLength(ndjson),
      compressedBytes: gz.length,
      source: 'Code42FileEvents',
    };
  }

  function deliver(body: StagedBatchMessage, metrics: StageMetrics): Promise<Outcome> {
    const delivery: Delivery<StagedBatchMessage> = {
      body,
      messageId: body.id,
      deliveryCount: 1,
      attempt: 1,
      enqueuedAt: new Date(),
      traceparent: undefined,
      signal: new AbortController().signal,
    };
    return createStagedBatchHandler({ ...deps, metrics: uploaderStageMetrics(metrics) })(delivery);
  }

  const events = (n: number) =>
    Array.from({ length: n }, (_, i) => ({ TimeGenerated: '2024-01-01T00:00:00.000Z', eventId: `m-${i}`, é: 'ü' }));

  it('counts accepted records and their bytes, and a duplicate delivery as a duplicate, not a failure', async () => {
    const { seen, metrics } = recordingStage();
    const records = events(40);
    const msg = await stage(records);
    assert.equal((await deliver(msg, metrics)).kind, 'success');
    assert.equal((await deliver(msg, metrics)).kind, 'success');
    const jsonBytes = records.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0);
    assert.deepEqual(seen, { records: 40, bytes: jsonBytes, duplicates: 1, failures: [] });
  });

  it('counts refused sink requests as failures by answer kind', async () => {
    const { seen, metrics } = recordingStage();
    standIn.setFaults([{ stream: STREAM, status: 500, count: 1 }]);
    assert.equal((await deliver(await stage(events(5)), metrics)).kind, 'success');
    standIn.setFaults([{ stream: STREAM, status: 400, count: 1 }]);
    assert.equal((await deliver(await stage(events(5)), metrics)).kind, 'deadLetter');
    assert.deepEqual(seen.failures, ['sink-transient', 'sink-rejected']);
    assert.equal(seen.records, 5);
    assert.equal(seen.duplicates, 0);
  });
});
