// Many sources in one deployment: sqs-poller, s3-fetcher and la-uploader as processes with the repository's
// routes.json. Objects under three prefixes in three formats land in three streams of one DCR, each with
// exactly its records; objects no route claims are refused by sqs-poller and never fetched.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { waitUntil } from '@logferry/shared/testing/wait';
import {
  code42AuditEvents,
  code42FileEvents,
  DEFAULT_ROUTES_FILE,
  s3Notification,
  vpcFlowLogRecords,
  vpcFlowLogText,
} from '@logferry/standins';
import { type OtlpReceiver, startOtlpReceiver } from '../src/otlp-receiver.ts';
import { type Flow, startFlow } from '../src/s3-flow.ts';
import { describeDiff, diffRecords, expectedRecordKey, multiset, type Rec, sinkMultiset } from '../src/s3-records.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const STREAMS = {
  Code42FileEvents: 'Custom-Code42FileEvents_CL',
  Code42Audit: 'Custom-Code42Audit_CL',
  VpcFlowLogs: 'Custom-VpcFlowLogs_CL',
} as const;
type Source = keyof typeof STREAMS;

interface Put {
  readonly key: string;
  readonly body: Buffer;
  readonly source: Source | undefined;
  readonly records: readonly Rec[];
}

describe('S3 sources routed to their streams (routes.json), three processes', () => {
  let flow: Flow;
  let metrics: OtlpReceiver;

  before(async () => {
    metrics = await startOtlpReceiver();
    flow = await startFlow({
      routesFile: DEFAULT_ROUTES_FILE,
      env: { 'sqs-poller': { OTEL_EXPORTER_OTLP_ENDPOINT: metrics.endpoint } },
    });
  });
  after(async () => {
    await flow?.stop();
    await metrics?.close();
  });

  it('lands each prefix’s records in its own stream, exactly, and refuses what no route claims', async () => {
    const bucket = flow.stack.endpoints.bucket;
    const fileEvents = [0, 1].map((i) => code42FileEvents(150, { seed: 11 + i, now: NOW }));
    const audit = code42AuditEvents(120, { seed: 21, now: NOW });
    const flows = vpcFlowLogRecords(200, { seed: 31, now: NOW });
    const ndjson = (rs: readonly Rec[]) => gzipSync(`${rs.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const vpcKey =
      'AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/03/01/123456789012_vpcflowlogs_us-east-1_fl-1_0.log.gz';
    const puts: Put[] = [
      ...fileEvents.map((rs, i) => ({
        key: `code42/file-events/2026/03/01/file events ${i}.json.gz`,
        body: ndjson(rs),
        source: 'Code42FileEvents' as const,
        records: rs,
      })),
      {
        key: 'code42/audit/2026/03/01/audit.json',
        body: Buffer.from(JSON.stringify(audit, null, 2)),
        source: 'Code42Audit',
        records: audit,
      },
      { key: vpcKey, body: gzipSync(vpcFlowLogText(flows)), source: 'VpcFlowLogs', records: flows },
      // No route: another prefix, and a sibling of a route's prefix.
      { key: 'cloudtrail/2026/03/01/trail.json.gz', body: ndjson([{ a: 1 }]), source: undefined, records: [] },
      { key: 'code42/alerts/2026/03/01/alerts.json', body: Buffer.from('{"b":2}\n'), source: undefined, records: [] },
    ];
    const notifications: string[] = [];
    for (const [n, p] of puts.entries()) {
      const put = await flow.s3.send(new PutObjectCommand({ Bucket: bucket, Key: p.key, Body: p.body }));
      const region = flow.stack.endpoints.aws.region;
      const note = s3Notification({ bucket, region }, p.key, p.body.length, put.ETag ?? '', NOW, n);
      notifications.push(JSON.stringify(note));
    }
    const entries = notifications.map((MessageBody, i) => ({ Id: `n${i}`, MessageBody }));
    await flow.sqs.send(new SendMessageBatchCommand({ QueueUrl: flow.stack.endpoints.sqsQueueUrl, Entries: entries }));

    const sink = flow.stack.logsIngestion;
    const expectedCount = (s: Source) => puts.filter((p) => p.source === s).reduce((n, p) => n + p.records.length, 0);
    const sources = Object.keys(STREAMS) as Source[];
    const refusals = () =>
      flow.services['sqs-poller']
        .output()
        .split('\n')
        .filter((l) => l.includes('refused an object outside the allow-list'));
    await waitUntil(
      'every record delivered and both refusals logged',
      async () => {
        if (sources.some((s) => sink.stats(STREAMS[s]).recordCount < expectedCount(s))) return false;
        const bus = flow.stack.serviceBus;
        for (const [t, sub] of [
          ['s3-objects', 's3-fetcher'],
          ['staged-batches', 'la-uploader'],
        ] as const) {
          const c = bus.counts(t, sub);
          if (c.active + c.locked + c.scheduled > 0) return false;
        }
        const q = await flow.queueDepth();
        return q.visible === 0 && q.inFlight === 0 && refusals().length === 2;
      },
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        diagnostics: () =>
          `${sources.map((s) => `${STREAMS[s]} ${sink.stats(STREAMS[s]).recordCount}/${expectedCount(s)}`).join(', ')}; ` +
          `refusals ${refusals().length}\n` +
          (['sqs-poller', 's3-fetcher', 'la-uploader'] as const)
            .map((n) => `--- ${n}\n${flow.services[n].output().split('\n').slice(-8).join('\n')}`)
            .join('\n'),
      },
    );

    for (const s of sources) {
      const received = sinkMultiset(sink.records(STREAMS[s]));
      const expected = multiset(
        puts.filter((p) => p.source === s).flatMap((p) => p.records.map((r) => expectedRecordKey(bucket, p.key, r))),
      );
      const diff = diffRecords(expected, received.set);
      assert.deepEqual(received.problems, [], `${s}: TimeGenerated from the record's own time, a source line`);
      assert.equal(diff.missing + diff.unexpected + diff.duplicates, 0, `${STREAMS[s]}: ${describeDiff(diff)}`);
      assert.equal(diff.received, expectedCount(s), STREAMS[s]);
    }
    // VPC flow logs: TimeGenerated from `start` as epoch seconds, "-" read as null.
    for (const r of sink.records(STREAMS.VpcFlowLogs) as Rec[]) {
      assert.equal(r.TimeGenerated, new Date(Number(r.start) * 1000).toISOString());
    }
    assert.equal((sink.records(STREAMS.VpcFlowLogs) as Rec[]).filter((r) => r.srcaddr === null).length, 20);
    assert.deepEqual(sink.streams().sort(), Object.values(STREAMS).sort(), 'nothing reached any other stream');

    // The refused objects were counted and logged with their reason by sqs-poller, and never published.
    const refused = refusals().map((l) => JSON.parse(l) as { key: string; reason: string });
    assert.deepEqual(refused.map((r) => [r.key, r.reason]).sort(), [
      ['cloudtrail/2026/03/01/trail.json.gz', 'no-route'],
      ['code42/alerts/2026/03/01/alerts.json', 'no-route'],
    ]);
    // What reached s3-objects (so what s3-fetcher could fetch): every other object, the refused ones never.
    const published = flow.stack.serviceBus.records.published('s3-objects').map((p) => (p.body as { key: string }).key);
    const refusedKeys = new Set(refused.map((r) => r.key));
    assert.deepEqual(
      [...new Set(published)].sort(),
      puts
        .map((p) => p.key)
        .filter((key) => !refusedKeys.has(key))
        .sort(),
      'the refused objects were never published',
    );
    assert.deepEqual(flow.stack.serviceBus.deadLetters('s3-objects', 's3-fetcher'), []);
    assert.deepEqual(await flow.queueDepth(), { visible: 0, inFlight: 0 }, 'the refusing message is deleted');

    // Counted where an operator reads it: telemetry is flushed when sqs-poller stops.
    assert.equal(await flow.services['sqs-poller'].stop('SIGTERM', 20_000), 0);
    assert.equal(metrics.counter('sqs_poller.objects.refused', { reason: 'no-route' }), 2);
    assert.equal(metrics.counter('logferry.messages.out', { stage: 'sqs-poller' }), puts.length - 2);
  });
});
