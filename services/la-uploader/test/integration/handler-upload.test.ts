import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import { recordingStageMetrics } from '@logferry/shared/testing';
import { type StagedBatchHandlerDeps, uploaderStageMetrics } from '../../src/handle-staged-batch.ts';
import { createLogsIngestionClient, type LogsIngestionClient } from '../../src/logs-ingestion-client.ts';
import { assertSameMultiset, credential, DCR, describeHandler, events, STREAM } from './handler-fixture.ts';

describeHandler('uploads, routes and retention', (s) => {
  it('uploads every record exactly once, records the batch and deletes the staged blob', async () => {
    const records = events(500);
    const msg = await s.stage(records);
    assert.deepEqual(await s.deliver(msg), { kind: 'success' });
    assertSameMultiset(s.standIn.records(STREAM), records);
    const row = await s.status.get(msg.id);
    assert.equal(row?.status, 'uploaded');
    assert.equal(row?.records, 500);
    assert.ok(row?.uploadedAt);
    assert.equal(await s.blobExists(msg), false);
    assert.ok(s.standIn.requestLog(STREAM).every((r) => r.gzip && r.immutableId === DCR));
  });

  it("posts a batch whose route names a stream (and DCR) there, and leaves an ADX-only route's batch alone", async () => {
    const otherDcr = 'dcr-fedcba9876543210fedcba9876543210';
    const clients = new Map<string, LogsIngestionClient>();
    const clientFor: StagedBatchHandlerDeps['clientFor'] = (d) => {
      const key = `${d.dcr ?? DCR}/${d.stream}`;
      const made =
        clients.get(key) ??
        createLogsIngestionClient({
          endpoint: s.standIn.endpoint,
          ruleId: d.dcr ?? DCR,
          stream: d.stream,
          credential,
          timeoutMs: 5_000,
          ca: s.standIn.caCertPem,
        });
      clients.set(key, made);
      return made;
    };
    try {
      const vpc = events(7, 'vpc');
      const audit = events(4, 'audit');
      const toVpc = { ...(await s.stage(vpc)), logsIngestion: { stream: 'Custom-VpcFlowLogs_CL' } };
      const toAudit = { ...(await s.stage(audit)), logsIngestion: { stream: 'Custom-Code42Audit_CL', dcr: otherDcr } };
      const adxOnly = { ...(await s.stage(events(3, 'adx-only'))), logsIngestion: false as const };
      for (const m of [toVpc, toAudit, adxOnly])
        assert.deepEqual(await s.deliver(m, { clientFor }), { kind: 'success' });
      assertSameMultiset(s.standIn.records('Custom-VpcFlowLogs_CL'), vpc);
      assert.ok(s.standIn.requestLog('Custom-VpcFlowLogs_CL').every((r) => r.immutableId === DCR));
      assertSameMultiset(s.standIn.records('Custom-Code42Audit_CL'), audit);
      assert.ok(s.standIn.requestLog('Custom-Code42Audit_CL').every((r) => r.immutableId === otherDcr));
      assert.equal(s.standIn.records(STREAM).length, 0, 'nothing went to the default stream');
      assert.equal((await s.status.get(toVpc.id))?.stream, 'Custom-VpcFlowLogs_CL');
      assert.equal(await s.blobExists(adxOnly), true, 'the ADX-only batch is adx-ingester’s to read');
      assert.equal(await s.status.get(adxOnly.id), undefined);
    } finally {
      for (const c of clients.values()) c.close();
    }
  });

  it('keeps the staged blob when STAGING_RETENTION is keep', async () => {
    const msg = await s.stage(events(3, 'keep'));
    assert.equal((await s.deliver(msg, { retention: 'keep' })).kind, 'success');
    assert.equal(await s.blobExists(msg), true);
  });

  it('keeps the staged blob of a batch s3-fetcher marks as read by adx-ingester too, and deletes the others', async () => {
    const routed = { ...(await s.stage(events(2, 'adx'))), source: 'TrafficFlows', adxReads: true as const };
    const unrouted = await s.stage(events(2, 'la-only'));
    assert.equal((await s.deliver(routed)).kind, 'success');
    assert.equal((await s.deliver(unrouted)).kind, 'success');
    assert.equal(await s.blobExists(routed), true);
    assert.equal(await s.blobExists(unrouted), false);
  });

  if (s.v2) {
    it('sends the staged blob as it is stored, in one request, without opening it', async () => {
      const records = events(800, 'as-is');
      const msg = await s.stage(records);
      const stored = await s.container.getBlobClient(msg.blobName).downloadToBuffer();
      let sent: Buffer | undefined;
      const spy: Pick<LogsIngestionClient, 'upload'> = {
        upload: (body, signal) => {
          sent = body;
          return s.client.upload(body, signal);
        },
      };
      assert.equal((await s.deliver(msg, { client: spy })).kind, 'success');
      assert.deepEqual(sent, stored, 'the request body is the blob, byte for byte');
      assert.deepEqual(
        s.standIn.requestLog(STREAM).map((r) => [r.status, r.records, r.bodyBytes, r.gzip]),
        [[204, 800, msg.compressedBytes, true]],
      );
      assertSameMultiset(s.standIn.records(STREAM), records);
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
      const msg = await s.stage(records);
      assert.equal((await s.deliver(msg, withMetrics(metrics))).kind, 'success');
      assert.equal((await s.deliver(msg, withMetrics(metrics))).kind, 'success');
      const jsonBytes = records.reduce((n, r) => n + Buffer.byteLength(JSON.stringify(r)), 0);
      assert.deepEqual(seen, { records: 40, bytes: jsonBytes, duplicates: 1, failures: [] });
    });

    it('counts refused sink requests as failures by answer kind', async () => {
      const { seen, metrics } = recordingStageMetrics();
      s.standIn.setFaults([{ stream: STREAM, status: 500, count: 1 }]);
      assert.equal((await s.deliver(await s.stage(metricEvents(5)), withMetrics(metrics))).kind, 'success');
      s.standIn.setFaults([{ stream: STREAM, status: 400, count: 1 }]);
      assert.equal((await s.deliver(await s.stage(metricEvents(5)), withMetrics(metrics))).kind, 'deadLetter');
      assert.deepEqual(seen.failures, ['LogsIngestionUnavailable', 'LogsIngestionRejected']);
      assert.equal(seen.records, 5);
      assert.equal(seen.duplicates, 0);
    });
  });
});
