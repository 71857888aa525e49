import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger, type Delivery, type Outcome, type StagedBatchMessage } from '@logferry/shared';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { encodeRecordLengths } from '@logferry/shared/stores/record-lengths';
import { encodeRowKey } from '@logferry/shared/stores/row-key';
import { WorkClaims } from '@logferry/shared/stores/work-claim';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import {
  type AzuriteHandle,
  recordingStageMetrics,
  stageJsonArrayBatch,
  stageNdjsonBatch,
  startAzurite,
} from '@logferry/shared/testing';
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

const FORMATS = ['v2 (gzip JSON array)', 'v1 (gzip NDJSON, still in flight after an upgrade)'] as const;

for (const format of FORMATS) {
  describe(`la-uploader handler against Azurite and the Logs Ingestion stand-in: ${format}`, () => {
    const v2 = format === FORMATS[0];
    let azurite: AzuriteHandle;
    let standIn: LogsIngestionStandIn;
    let container: ContainerClient;
    let status: BatchStatusStore;
    let client: LogsIngestionClient;
    let deps: StagedBatchHandlerDeps;
    let claims: WorkClaims;
    let claimsTable: TableClient;

    before(async () => {
      [azurite, standIn] = await Promise.all([startAzurite(), startLogsIngestionStandIn({ port: 0 })]);
      const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
      container = blobs.getContainerClient(CONTAINER);
      await container.createIfNotExists();
      const table = TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', {
        allowInsecureConnection: true,
      });
      status = new BatchStatusStore(table);
      claimsTable = table;
      claims = new WorkClaims(table, { scope: 'labatch', leaseMs: 5_000, owner: 'test' });
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
        claims,
        staging: createStagedBatchSource(blobs, 64 * 1024 * 1024),
        client,
        stream: STREAM,
        clientFor: () => assert.fail('these batches name no stream of their own'),
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

    function stage(records: readonly object[], batchId = `obj-${randomUUID()}#0`): Promise<StagedBatchMessage> {
      const batch = {
        objectId: 'bucket/key with spaces+plus/ünï.json@v1',
        batchIndex: 0,
        source: 'Code42FileEvents',
        records,
        id: batchId,
        blobName: `batches/${encodeURIComponent(batchId)}.${v2 ? 'json.gz' : 'ndjson.gz'}`,
      };
      return v2 ? stageJsonArrayBatch(container, batch) : stageNdjsonBatch(container, batch);
    }

    function deliver(body: StagedBatchMessage, handlerDeps: Partial<StagedBatchHandlerDeps> = {}): Promise<Outcome> {
      const delivery: Delivery<StagedBatchMessage> = {
        body,
        messageId: body.id,
        deliveryCount: 1,
        attempt: 1,
        enqueuedAt: new Date(),
        traceparent: undefined,
        signal: new AbortController().signal,
      };
      return createStagedBatchHandler({ ...deps, ...handlerDeps })(delivery);
    }

    const blobExists = (msg: StagedBatchMessage) => container.getBlobClient(msg.blobName).exists();
    const events = (n: number, tag = 'e') =>
      Array.from({ length: n }, (_, i) => ({
        TimeGenerated: new Date(Date.UTC(2024, 0, 1, 0, 0, i % 60)).toISOString(),
        eventId: `${tag}-${i}`,
        fileName: `répertoire/файл ${i}.txt`,
        actor: 'user+alias@example.com',
      }));

    it('uploads every record exactly once, records the batch and deletes the staged blob', async () => {
      const records = events(500);
      const msg = await stage(records);
      assert.deepEqual(await deliver(msg), { kind: 'success' });
      assertSameMultiset(standIn.records(STREAM), records);
      const row = await status.get(msg.id);
      assert.equal(row?.status, 'uploaded');
      assert.equal(row?.records, 500);
      assert.ok(row?.uploadedAt);
      assert.equal(await blobExists(msg), false);
      assert.ok(standIn.requestLog(STREAM).every((r) => r.gzip && r.immutableId === DCR));
    });

    it('skips a duplicate delivery of an uploaded batch', async () => {
      const msg = await stage(events(20, 'dup'));
      assert.equal((await deliver(msg)).kind, 'success');
      assert.equal((await deliver(msg)).kind, 'success');
      assert.equal(standIn.records(STREAM).length, 20);
      assert.equal(standIn.requests(STREAM), 1);
    });

    it("posts a batch whose route names a stream (and DCR) there, and leaves an ADX-only route's batch alone", async () => {
      const otherDcr = 'dcr-fedcba9876543210fedcba9876543210';
      const clients = new Map<string, LogsIngestionClient>();
      const clientFor: StagedBatchHandlerDeps['clientFor'] = (d) => {
        const key = `${d.dcr ?? DCR}/${d.stream}`;
        const made =
          clients.get(key) ??
          createLogsIngestionClient({
            endpoint: standIn.endpoint,
            ruleId: d.dcr ?? DCR,
            stream: d.stream,
            credential,
            timeoutMs: 5_000,
            ca: standIn.caCertPem,
          });
        clients.set(key, made);
        return made;
      };
      try {
        const vpc = events(7, 'vpc');
        const audit = events(4, 'audit');
        const toVpc = { ...(await stage(vpc)), logsIngestion: { stream: 'Custom-VpcFlowLogs_CL' } };
        const toAudit = { ...(await stage(audit)), logsIngestion: { stream: 'Custom-Code42Audit_CL', dcr: otherDcr } };
        const adxOnly = { ...(await stage(events(3, 'adx-only'))), logsIngestion: false as const };
        for (const m of [toVpc, toAudit, adxOnly])
          assert.deepEqual(await deliver(m, { clientFor }), { kind: 'success' });
        assertSameMultiset(standIn.records('Custom-VpcFlowLogs_CL'), vpc);
        assert.ok(standIn.requestLog('Custom-VpcFlowLogs_CL').every((r) => r.immutableId === DCR));
        assertSameMultiset(standIn.records('Custom-Code42Audit_CL'), audit);
        assert.ok(standIn.requestLog('Custom-Code42Audit_CL').every((r) => r.immutableId === otherDcr));
        assert.equal(standIn.records(STREAM).length, 0, 'nothing went to the default stream');
        assert.equal((await status.get(toVpc.id))?.stream, 'Custom-VpcFlowLogs_CL');
        assert.equal(await blobExists(adxOnly), true, 'the ADX-only batch is adx-ingester’s to read');
        assert.equal(await status.get(adxOnly.id), undefined);
      } finally {
        for (const c of clients.values()) c.close();
      }
    });

    it('two deliveries of the same batch at once: one uploads, the other retries after the claim, records once', async () => {
      const records = events(300, 'twice');
      const msg = await stage(records);
      const both = await Promise.all([deliver(msg), deliver(msg)]);
      const kinds = both.map((o) => o.kind).sort();
      assert.deepEqual(kinds, ['retryLater', 'success'], JSON.stringify(both));
      const waiting = both.find((o) => o.kind === 'retryLater');
      assert.equal(waiting?.kind === 'retryLater' ? waiting.code : '', 'InFlightElsewhere');
      assert.ok(waiting?.kind === 'retryLater' && (waiting.delayMs ?? 0) > 0, 'waits for the claim, not at once');
      // Its redelivery finds the batch uploaded.
      assert.deepEqual(await deliver(msg), { kind: 'success' });
      assertSameMultiset(standIn.records(STREAM), records);
      assert.equal(standIn.requests(STREAM), 1);
    });

    it('a claim left by a crashed uploader expires after the lease, then the batch is uploaded', async () => {
      const records = events(10, 'crashed');
      const msg = await stage(records);
      // What a SIGKILLed holder leaves: its claim row, no longer renewed.
      await claimsTable.createEntity({
        partitionKey: 'claim-labatch',
        rowKey: encodeRowKey(msg.id),
        owner: 'crashed',
        token: 'gone',
        expiresAt: new Date(Date.now() + 1_000).toISOString(),
      });
      const first = await deliver(msg);
      assert.equal(first.kind, 'retryLater');
      await new Promise((r) => setTimeout(r, 1_100));
      assert.deepEqual(await deliver(msg), { kind: 'success' });
      assertSameMultiset(standIn.records(STREAM), records);
    });

    it('keeps the staged blob when STAGING_RETENTION is keep', async () => {
      const msg = await stage(events(3, 'keep'));
      assert.equal((await deliver(msg, { retention: 'keep' })).kind, 'success');
      assert.equal(await blobExists(msg), true);
    });

    it('keeps the staged blob of a batch s3-fetcher marks as read by adx-ingester too, and deletes the others', async () => {
      const routed = { ...(await stage(events(2, 'adx'))), source: 'TrafficFlows', adxReads: true as const };
      const unrouted = await stage(events(2, 'la-only'));
      assert.equal((await deliver(routed)).kind, 'success');
      assert.equal((await deliver(unrouted)).kind, 'success');
      assert.equal(await blobExists(routed), true);
      assert.equal(await blobExists(unrouted), false);
    });

    it('waits for Retry-After on 429 in place, then delivers everything once', async () => {
      standIn.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 1 }]);
      const records = events(50, 'throttle');
      assert.equal((await deliver(await stage(records))).kind, 'success');
      assertSameMultiset(standIn.records(STREAM), records);
      const [throttled, accepted] = standIn.requestLog(STREAM);
      assert.equal(throttled?.status, 429);
      assert.equal(accepted?.status, 204);
      assert.ok((accepted?.at ?? 0) - (throttled?.at ?? 0) >= 950, 'the retry came before Retry-After elapsed');
    });

    it('hands a long Retry-After back to the queue as the retry delay', async () => {
      standIn.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 7 }]);
      const records = events(10, 'later');
      const msg = await stage(records);
      const first = await deliver(msg);
      assert.equal(first.kind, 'retryLater');
      assert.equal(first.kind === 'retryLater' ? first.delayMs : undefined, 7_000);
      assert.equal(standIn.records(STREAM).length, 0);
      assert.equal((await deliver(msg)).kind, 'success');
      assertSameMultiset(standIn.records(STREAM), records);
    });

    it('retries 500s with backoff', async () => {
      standIn.setFaults([{ stream: STREAM, status: 500, count: 2 }]);
      const records = events(30, 'flaky');
      assert.equal((await deliver(await stage(records))).kind, 'success');
      assertSameMultiset(standIn.records(STREAM), records);
      assert.deepEqual(standIn.stats(STREAM).statuses, { '204': 1, '500': 2 });
    });

    it('splits a request refused with 413 and delivers every record once', async () => {
      standIn.setFaults([{ stream: STREAM, status: 413, count: 2 }]);
      const records = events(101, 'split');
      assert.equal((await deliver(await stage(records))).kind, 'success');
      assertSameMultiset(standIn.records(STREAM), records);
      assert.deepEqual(
        standIn.requestLog(STREAM).map((r) => [r.status, r.records]),
        [
          [413, 0],
          [413, 0],
          [204, 25],
          [204, 25],
          [204, 51],
        ],
      );
    });

    it('splits a staged batch larger than the request limit into requests under it', async () => {
      const records = events(400, 'big');
      assert.equal(
        (await deliver(await stage(records), { policy: { ...deps.policy, maxRequestBytes: 10_000 } })).kind,
        'success',
      );
      assertSameMultiset(standIn.records(STREAM), records);
      const log = standIn.requestLog(STREAM);
      assert.ok(log.length > 5);
      assert.ok(log.every((r) => r.status === 204));
    });

    it('resumes a half-uploaded batch without sending its first part again', async () => {
      const records = events(300, 'resume');
      const msg = await stage(records);
      let calls = 0;
      const faultAfterFirst: Pick<LogsIngestionClient, 'upload'> = {
        upload: async (body, signal) => {
          const answer = await client.upload(body, signal);
          calls += 1;
          if (calls === 1) standIn.setFaults([{ stream: STREAM, status: 503, count: 1 }]);
          return answer;
        },
      };
      const small = { ...deps.policy, maxRequestBytes: 12_000, inlineRetryMs: 0 };
      const first = await deliver(msg, { client: faultAfterFirst, policy: small });
      assert.equal(first.kind, 'retryLater');
      const partial = await status.get(msg.id);
      assert.equal(partial?.status, 'partial');
      assert.equal(await blobExists(msg), true);
      assert.equal((await deliver(msg, { policy: small })).kind, 'success');
      assertSameMultiset(standIn.records(STREAM), records);
      assert.equal((await status.get(msg.id))?.status, 'uploaded');
    });

    it('dead-letters a batch the API refuses with 400, with the API’s error text', async () => {
      standIn.setFaults([{ stream: STREAM, status: 400, count: 1 }]);
      const msg = await stage(events(5, 'bad'));
      const result = await deliver(msg);
      assert.equal(result.kind, 'deadLetter');
      assert.equal(result.kind === 'deadLetter' && result.reason, 'LogsIngestionRejected');
      assert.match(result.kind === 'deadLetter' ? result.description : '', /^400 InvalidStream: Stream does not match/);
      assert.equal(standIn.records(STREAM).length, 0);
      assert.equal(await status.get(msg.id), undefined);
      assert.equal(await blobExists(msg), true, 'the staged blob stays for inspection');
    });

    it('dead-letters a missing or corrupt staged blob', async () => {
      const missing = await stage(events(1, 'gone'));
      await container.getBlobClient(missing.blobName).delete();
      const a = await deliver(missing);
      assert.equal(a.kind === 'deadLetter' && a.reason, 'StagedBlobMissing');

      const corrupt = await stage(events(1, 'corrupt'));
      await container.getBlockBlobClient(corrupt.blobName).uploadData(Buffer.from('not gzip at all'));
      const b = await deliver(corrupt);
      assert.equal(b.kind === 'deadLetter' && b.reason, 'StagedBlobCorrupt');

      if (!v2) {
        const badLine = await stage([]);
        await container.getBlockBlobClient(badLine.blobName).uploadData(gzipSync('{"ok":1}\n{"truncated":\n'));
        const c = await deliver(badLine);
        assert.equal(c.kind === 'deadLetter' && c.reason, 'StagedBlobCorrupt');
        assert.match(c.kind === 'deadLetter' ? c.description : '', /line 2/);
      }
      assert.equal(standIn.requests(STREAM), 0);
    });

    if (v2) {
      it('sends the staged blob as it is stored, in one request, without opening it', async () => {
        const records = events(800, 'as-is');
        const msg = await stage(records);
        const stored = await container.getBlobClient(msg.blobName).downloadToBuffer();
        let sent: Buffer | undefined;
        const spy: Pick<LogsIngestionClient, 'upload'> = {
          upload: (body, signal) => {
            sent = body;
            return client.upload(body, signal);
          },
        };
        assert.equal((await deliver(msg, { client: spy })).kind, 'success');
        assert.deepEqual(sent, stored, 'the request body is the blob, byte for byte');
        assert.deepEqual(
          standIn.requestLog(STREAM).map((r) => [r.status, r.records, r.bodyBytes, r.gzip]),
          [[204, 800, msg.compressedBytes, true]],
        );
        assertSameMultiset(standIn.records(STREAM), records);
      });

      it('dead-letters a batch whose record lengths do not match its blob once it must be split', async () => {
        const msg = await stage([{ a: 'x' }, { bb: 'yy' }, { c: 1 }]);
        assert.equal(msg.schemaVersion, 2);
        // Same total, so the message still adds up; the cut points are wrong.
        const swapped = { ...msg, recordLengths: encodeRecordLengths([11, 9, 7]) };
        const small = { ...deps.policy, maxRequestBytes: 20 };
        const r = await deliver(swapped as StagedBatchMessage, { policy: small });
        assert.equal(r.kind === 'deadLetter' && r.reason, 'StagedBlobCorrupt');
        assert.match(r.kind === 'deadLetter' ? r.description : '', /record 0 is not where its length puts it/);
        assert.equal(standIn.requests(STREAM), 0);

        const bad = { ...msg, recordLengths: encodeRecordLengths([9, 9]) };
        const r2 = await deliver(bad as StagedBatchMessage);
        assert.equal(r2.kind === 'deadLetter' && r2.reason, 'StagedBlobCorrupt');
        assert.match(r2.kind === 'deadLetter' ? r2.description : '', /record lengths on the message do not add up/);
      });

      it('refuses a staged batch larger than MAX_STAGED_BATCH_BYTES before downloading it', async () => {
        const msg = await stage(events(50, 'huge'));
        const blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
        const r = await deliver(msg, { staging: createStagedBatchSource(blobs, 1_024) });
        assert.equal(r.kind === 'deadLetter' && r.reason, 'StagedBatchTooLarge');
        assert.equal(standIn.requests(STREAM), 0);
      });
    }

    describe('metrics', () => {
      const withMetrics = (metrics: StageMetrics): Partial<StagedBatchHandlerDeps> => ({
        metrics: uploaderStageMetrics(metrics),
      });
      const metricEvents = (n: number) =>
        Array.from({ length: n }, (_, i) => ({ TimeGenerated: '2024-01-01T00:00:00.000Z', eventId: `m-${i}`, é: 'ü' }));

      it('counts accepted records and their bytes, and a duplicate delivery as a duplicate, not a failure', async () => {
        const { seen, metrics } = recordingStageMetrics();
        const records = metricEvents(40);
        const msg = await stage(records);
        assert.equal((await deliver(msg, withMetrics(metrics))).kind, 'success');
        assert.equal((await deliver(msg, withMetrics(metrics))).kind, 'success');
        const jsonBytes = records.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0);
        assert.deepEqual(seen, { records: 40, bytes: jsonBytes, duplicates: 1, failures: [] });
      });

      it('counts refused sink requests as failures by answer kind', async () => {
        const { seen, metrics } = recordingStageMetrics();
        standIn.setFaults([{ stream: STREAM, status: 500, count: 1 }]);
        assert.equal((await deliver(await stage(metricEvents(5)), withMetrics(metrics))).kind, 'success');
        standIn.setFaults([{ stream: STREAM, status: 400, count: 1 }]);
        assert.equal((await deliver(await stage(metricEvents(5)), withMetrics(metrics))).kind, 'deadLetter');
        assert.deepEqual(seen.failures, ['LogsIngestionUnavailable', 'LogsIngestionRejected']);
        assert.equal(seen.records, 5);
        assert.equal(seen.duplicates, 0);
      });
    });
  });
}

function assertSameMultiset(actual: readonly unknown[], expected: readonly unknown[]): void {
  assert.equal(actual.length, expected.length, 'record count');
  const a = actual.map((r) => JSON.stringify(r)).sort();
  const e = expected.map((r) => JSON.stringify(r)).sort();
  const firstDiff = a.findIndex((x, i) => x !== e[i]);
  assert.equal(firstDiff, -1, `records differ, first at sorted index ${firstDiff}: ${a[firstDiff]} vs ${e[firstDiff]}`);
}
