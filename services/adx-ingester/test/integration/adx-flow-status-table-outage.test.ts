import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { ingestRequestMessage } from '@logferry/shared/messages/index';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { createIngestRequestHandler } from '../../src/handle-ingest-request.ts';
import { createStagedBatchHandler } from '../../src/handle-staged-batch.ts';
import { type AdxFlow, closedPort, delivery, logger, mappings, startAdxFlow } from '../support/adx-flow-fixture.ts';

describe('adx-ingester and completion-checker on Azurite and the ADX stand-in: a status table that does not answer', () => {
  let flow: AdxFlow;
  before(async () => {
    flow = await startAdxFlow();
  });
  after(async () => {
    await flow?.close();
  });

  it('a status table that does not answer is a typed retry (StatusTableUnavailable), not a handler bug', async () => {
    const port = await closedPort();
    const unreachable = new BlobStatusStore(
      TableClient.fromConnectionString(flow.azurite.connectionString.replace(/:\d+\//g, `:${port}/`), 'status', {
        allowInsecureConnection: true,
        retryOptions: { maxRetries: 0 },
      }),
    );
    const deps = {
      store: unreachable,
      ingestor: { ingest: async () => {}, close: () => {} },
      publisher: flow.publisher,
      logger,
      mappings,
      maxAttempts: 3,
    };
    const blobUrlFor = async () => 'http://127.0.0.1/unused';
    const request = createIngestRequestHandler({ ...deps, blobUrlFor });
    const requested = await request(
      delivery(
        ingestRequestMessage(
          { id: randomUUID(), producer: 'cli' },
          { container: 'data', blobName: 'Flows-outage.csv', etag: '"0x1"', size: 10, attempt: 1 },
        ),
      ),
    );
    assert.equal(requested.kind === 'retryLater' && requested.code, 'StatusTableUnavailable');
    const staging = BlobServiceClient.fromConnectionString(flow.azurite.connectionString).getContainerClient('staging');
    await staging.createIfNotExists();
    const body = gzipSync('{"ts":"2024-05-01T10:00:00Z","query":{"name":"outage.test"}}\n');
    await staging.getBlockBlobClient('DnsQueries/outage.json.gz').upload(body, body.length);
    const batches = createStagedBatchHandler({
      ...deps,
      blobUrlFor,
      container: (name) =>
        BlobServiceClient.fromConnectionString(flow.azurite.connectionString).getContainerClient(name),
    });
    const staged = await batches(
      delivery({
        type: 'staged-batch',
        schemaVersion: 1,
        id: 'DnsQueries-outage-0',
        producer: 's3-fetcher',
        time: new Date().toISOString(),
        objectId: 'bucket/outage@v1',
        batchIndex: 0,
        lastBatch: true,
        blobContainer: 'staging',
        blobName: 'DnsQueries/outage.json.gz',
        recordCount: 1,
        rawBytes: 60,
        compressedBytes: body.length,
        source: 'DnsQueries',
      }),
    );
    assert.equal(staged.kind === 'retryLater' && staged.code, 'StatusTableUnavailable');
  });
});
