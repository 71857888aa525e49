import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import type { StagedBatchMessage } from '@logferry/shared';
import { createLogger } from '@logferry/shared/logging/logger';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { type AzuriteHandle, stageJsonArrayBatch, startAzurite } from '@logferry/shared/testing';
import type { Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import {
  DEFAULT_SERVICE_BUS_CONFIG_PATH,
  type LogsIngestionStandIn,
  type ServiceBusStandIn,
  type ServiceProcess,
  startLogsIngestionStandIn,
  startServiceBusStandIn,
  startServiceProcess,
} from '@logferry/standins';

const STREAM = 'Custom-Code42Events_CL';
const CONTAINER = 'staging';

describe('la-uploader as a process', () => {
  let azurite: AzuriteHandle;
  let bus: ServiceBusStandIn;
  let sink: LogsIngestionStandIn;
  let transport: Transport;
  let container: ContainerClient;
  let service: ServiceProcess | undefined;

  before(async () => {
    [azurite, bus, sink] = await Promise.all([
      startAzurite(),
      startServiceBusStandIn({
        logger: createLogger('sb', { level: 'silent' }),
        configPath: await noDuplicateDetection(),
      }),
      startLogsIngestionStandIn({ port: 0 }),
    ]);
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 's3-fetcher',
    });
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CONTAINER);
    await container.createIfNotExists();
  });
  after(async () => {
    await service?.kill();
    await transport.close();
    await Promise.all([bus.close(), sink.close(), azurite.stop()]);
  });

  const stage = (objectId: string, batchIndex: number, records: readonly object[]): Promise<StagedBatchMessage> =>
    stageJsonArrayBatch(container, { objectId, batchIndex, source: 'Code42FileEvents', records });

  it('uploads published batches through the HTTPS sink, dead-letters a missing blob, and exits 0 on SIGTERM', async () => {
    const expected: object[] = [];
    const messages: StagedBatchMessage[] = [];
    for (let b = 0; b < 6; b++) {
      const records = Array.from({ length: 200 }, (_, i) => ({
        TimeGenerated: '2024-05-01T00:00:00Z',
        b,
        i,
        k: 'ü+ ',
      }));
      expected.push(...records);
      messages.push(await stage('bucket/key one.json@v1', b, records));
    }
    const gone = await stage('bucket/gone.json@v1', 0, [{ x: 1 }]);
    await container.getBlobClient(gone.blobName).delete();
    sink.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 1 }]);

    const proc = await startServiceProcess(
      'la-uploader',
      {
        NODE_EXTRA_CA_CERTS: sink.caCertPath,
        SERVICEBUS_CONNECTION_STRING: bus.connectionString,
        AzureStorage: azurite.connectionString,
        LOGS_INGESTION_ENDPOINT: sink.endpoint,
        DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
        C42_LOG_ANALYTICS_TABLE: 'Code42Events',
        LOGFERRY_LOCAL: 'true',
        SHUTDOWN_GRACE_MS: '5000',
        RETRY_BASE_MS: '50',
        RETRY_MAX_MS: '200',
        LOG_LEVEL: 'info',
      },
      { logDir: await mkdtemp(join(tmpdir(), 'la-uploader-logs-')) },
    );
    service = proc;

    await transport.publish('staged-batches', [...messages, gone]);
    await sink.waitForRecords(STREAM, expected.length, 30_000);
    await bus.waitFor(() => bus.counts('staged-batches', 'la-uploader').deadLetter === 1, 15_000);
    // A copy of an uploaded batch (past the broker's duplicate-detection window) must be recognized and skipped.
    await transport.publish('staged-batches', [messages[0] as StagedBatchMessage]);
    await bus.waitFor(() => {
      const c = bus.counts('staged-batches', 'la-uploader');
      return c.active === 0 && c.locked === 0 && c.scheduled === 0;
    }, 15_000);

    const got = sink
      .records(STREAM)
      .map((r) => JSON.stringify(r))
      .sort();
    assert.deepEqual(got, expected.map((r) => JSON.stringify(r)).sort(), proc.output().slice(-3000));
    assert.ok(sink.stats(STREAM).statuses['429'] === 1, 'the 429 was answered and retried');
    const [dead] = bus.deadLetters('staged-batches', 'la-uploader');
    assert.equal(dead?.reason, 'StagedBlobMissing');
    assert.match(dead?.description ?? '', /does not exist/);

    const status = new BatchStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    );
    for (const m of messages) assert.equal((await status.get(m.id))?.status, 'uploaded');

    // Deletes wait (STAGING_DELETE_DELAY_MS, 5 s by default) to go in batches; a graceful stop sends them.
    assert.equal(await proc.stop(), 0, proc.output().slice(-3000));
    const left: string[] = [];
    for await (const b of container.listBlobsFlat()) left.push(b.name);
    assert.deepEqual(left, [], 'staged blobs are deleted after upload, at the latest when the service stops');
    assert.ok(proc.output().includes('already uploaded'), 'the duplicate delivery was skipped');
    assert.ok(!proc.output().includes('logferry-local-stand-in'), 'no token in the logs');
  });
});

/**
 * The topology without broker duplicate detection: the test's second copy of an uploaded batch stands for one
 * that comes after the detection window (a late replay), which the broker lets through and la-uploader itself
 * must recognize.
 */
async function noDuplicateDetection(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'la-uploader-bus-'));
  const path = join(dir, 'Config.json');
  const config = await readFile(DEFAULT_SERVICE_BUS_CONFIG_PATH, 'utf8');
  await writeFile(
    path,
    config.replaceAll(/"RequiresDuplicateDetection":\s*true/g, '"RequiresDuplicateDetection": false'),
  );
  return path;
}
