// The la-uploader handler against Azurite and the Logs Ingestion stand-in, for each staged-batch format:
// what the handler-*.test.ts files share.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger, type Delivery, type Outcome, type StagedBatchMessage } from '@logferry/shared';
import { BatchClaims } from '@logferry/shared/stores/batch-claim';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { type AzuriteHandle, stageJsonArrayBatch, stageNdjsonBatch, startAzurite } from '@logferry/shared/testing';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '@logferry/standins';
import { createStagedBatchHandler, type StagedBatchHandlerDeps } from '../../src/handle-staged-batch.ts';
import { createLogsIngestionClient, type LogsIngestionClient } from '../../src/logs-ingestion-client.ts';
import { createStagedBatchSource } from '../../src/staged-batch-reader.ts';
import { createStagedBlobDeleter, type StagedBlobDeleter } from '../../src/staged-blob-deleter.ts';

export const DCR = 'dcr-0123456789abcdef0123456789abcdef';
export const STREAM = 'Custom-Code42Events_CL';
export const CLAIM_LEASE_MS = 5_000;
const CONTAINER = 'staging';
export const credential: TokenCredential = {
  getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

const FORMATS = ['v2 (gzip JSON array)', 'v1 (gzip NDJSON, still in flight after an upgrade)'] as const;

/** Filled in by the suite's `before`: read its fields inside the tests, not when they are declared. */
export interface HandlerSuite {
  readonly v2: boolean;
  azurite: AzuriteHandle;
  standIn: LogsIngestionStandIn;
  container: ContainerClient;
  /** The status table the handler writes its `labatch` rows (and their claims) to. */
  table: TableClient;
  status: BatchStatusStore;
  client: LogsIngestionClient;
  deps: StagedBatchHandlerDeps;
  /** The handler's deleter: blobExists waits for the deletes it queued. */
  deleter: StagedBlobDeleter;
  /** Stages these records as one batch, in the suite's format, and returns its message. */
  stage(records: readonly object[], batchId?: string): Promise<StagedBatchMessage>;
  deliver(body: StagedBatchMessage, handlerDeps?: Partial<StagedBatchHandlerDeps>): Promise<Outcome>;
  blobExists(msg: StagedBatchMessage): Promise<boolean>;
}

/** One describe per staged-batch format, each with its own Azurite and stand-in. */
export function describeHandler(topic: string, body: (suite: HandlerSuite) => void): void {
  for (const format of FORMATS) {
    describe(`la-uploader handler, ${topic}: ${format}`, () => {
      const v2 = format === FORMATS[0];
      const suite = {
        v2,
        stage(records, batchId = `obj-${randomUUID()}#0`) {
          const batch = {
            objectId: 'bucket/key with spaces+plus/ünï.json@v1',
            batchIndex: 0,
            source: 'Code42FileEvents',
            records,
            id: batchId,
            blobName: `batches/${encodeURIComponent(batchId)}.${v2 ? 'json.gz' : 'ndjson.gz'}`,
          };
          return v2 ? stageJsonArrayBatch(suite.container, batch) : stageNdjsonBatch(suite.container, batch);
        },
        deliver(msg, handlerDeps = {}) {
          const delivery: Delivery<StagedBatchMessage> = {
            body: msg,
            messageId: msg.id,
            deliveryCount: 1,
            attempt: 1,
            enqueuedAt: new Date(),
            traceparent: undefined,
            signal: new AbortController().signal,
          };
          return createStagedBatchHandler({ ...suite.deps, ...handlerDeps })(delivery);
        },
        async blobExists(msg) {
          await suite.deleter.flush();
          return suite.container.getBlobClient(msg.blobName).exists();
        },
      } as HandlerSuite;

      before(async () => {
        [suite.azurite, suite.standIn] = await Promise.all([startAzurite(), startLogsIngestionStandIn({ port: 0 })]);
        const blobs = BlobServiceClient.fromConnectionString(suite.azurite.connectionString);
        suite.container = blobs.getContainerClient(CONTAINER);
        await suite.container.createIfNotExists();
        suite.table = TableClient.fromConnectionString(suite.azurite.connectionString, 'logferrystatus', {
          allowInsecureConnection: true,
        });
        suite.status = new BatchStatusStore(suite.table);
        await suite.status.ensureTable();
        suite.client = createLogsIngestionClient({
          endpoint: suite.standIn.endpoint,
          ruleId: DCR,
          stream: STREAM,
          credential,
          timeoutMs: 5_000,
          ca: suite.standIn.caCertPem,
        });
        const logger = createLogger('la-uploader-test', { level: 'silent' });
        suite.deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 0 });
        suite.deps = {
          claims: new BatchClaims(suite.table, { leaseMs: CLAIM_LEASE_MS, owner: 'test' }),
          staging: createStagedBatchSource(blobs, 64 * 1024 * 1024),
          deleter: suite.deleter,
          client: suite.client,
          stream: STREAM,
          clientFor: () => assert.fail('these batches name no stream of their own'),
          retention: 'delete',
          policy: { maxRequestBytes: 1_000_000, inlineRetryMs: 5_000, backoff: { baseMs: 10, maxMs: 50 } },
          logger,
        };
      });
      after(async () => {
        suite.client?.close();
        await Promise.all([suite.standIn?.close(), suite.azurite?.stop()]);
      });
      beforeEach(() => suite.standIn.reset());

      body(suite);
    });
  }
}

/** Code42-like events with non-ASCII text, distinct by `tag` and index. */
export function events(n: number, tag = 'e') {
  return Array.from({ length: n }, (_, i) => ({
    TimeGenerated: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)).toISOString(),
    eventId: `${tag}-${i}`,
    fileName: `répertoire/файл ${i}.txt`,
    actor: 'user+alias@example.com',
  }));
}

export function assertSameMultiset(actual: readonly unknown[], expected: readonly unknown[]): void {
  assert.equal(actual.length, expected.length, 'record count');
  const a = actual.map((r) => JSON.stringify(r)).sort();
  const e = expected.map((r) => JSON.stringify(r)).sort();
  const firstDiff = a.findIndex((x, i) => x !== e[i]);
  assert.equal(firstDiff, -1, `records differ, first at sorted index ${firstDiff}: ${a[firstDiff]} vs ${e[firstDiff]}`);
}
