// s3-fetcher with a routes file: each object is read by its route's format and time field, staged under the
// route's source and announced with the route's stream; an object no route claims is dead-lettered unread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { createRouteTable, parseRoutes } from '@logferry/shared/routes/index';
import { code42AuditEvents, vpcFlowLogRecords, vpcFlowLogText } from '@logferry/standins/seed/index';
import { code42Event, gzipNdjson, multiset, withoutEnrichment } from './corpus.ts';
import { delivery, useFetcherHarness } from './fixture.ts';

const BUCKET = 'routed-logs';
const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const ROUTES = parseRoutes({
  Code42FileEvents: {
    match: { bucket: BUCKET, prefix: 'code42/file-events/' },
    format: 'ndjson',
    timeField: '@timestamp',
    logsIngestion: { stream: 'Custom-Code42FileEvents_CL' },
  },
  Code42Audit: {
    match: { bucket: BUCKET, prefix: 'code42/audit/' },
    format: 'json',
    timeField: 'timestamp',
    timeFormat: 'iso8601',
    logsIngestion: { stream: 'Custom-Code42Audit_CL', dcr: DCR },
  },
  VpcFlowLogs: {
    match: { bucket: BUCKET, glob: 'AWSLogs/*/vpcflowlogs/**/*.log.gz' },
    format: 'space-delimited',
    timeField: 'start',
    timeFormat: 'epoch-seconds',
    logsIngestion: { stream: 'Custom-VpcFlowLogs_CL' },
  },
  TrafficFlows: { match: { bucket: BUCKET, prefix: 'flows/' }, format: 'csv', adx: true },
  DnsQueries: {
    match: { bucket: BUCKET, prefix: 'dns/' },
    adx: true,
    logsIngestion: { stream: 'Custom-DnsQueries_CL' },
  },
});

describe('s3-fetcher with routes (fauxqs, Azurite)', () => {
  const {
    put,
    handler: routedHandler,
    staged,
  } = useFetcherHarness({
    bucket: BUCKET,
    routes: createRouteTable(ROUTES),
    eventTime: '2020-01-01T00:00:00.000Z',
  });

  it('reads each object by its route and announces its batches with the route’s source and stream', async () => {
    const now = new Date('2026-03-01T12:00:00Z');
    const events = Array.from({ length: 120 }, (_, i) => code42Event(i));
    const audit = code42AuditEvents(40, { seed: 7, now });
    const flows = vpcFlowLogRecords(60, { seed: 9, now });
    const objects = {
      Code42FileEvents: await put('code42/file-events/2026/03/01/events 1.json.gz', gzipNdjson(events)),
      Code42Audit: await put('code42/audit/2026/03/01/audit-1.json', Buffer.from(JSON.stringify(audit, null, 2))),
      VpcFlowLogs: await put(
        'AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/03/01/123456789012_vpcflowlogs_us-east-1_fl-1_20260301T1200Z_a1.log.gz',
        zlib.gzipSync(vpcFlowLogText(flows)),
      ),
    };
    const { publisher, handler } = routedHandler();
    for (const m of Object.values(objects)) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, m.key);

    const of = (source: string) => publisher.messages.filter((m) => m.source === source);
    assert.deepEqual(
      [...new Set(of('Code42FileEvents').map((m) => JSON.stringify(m.logsIngestion)))],
      [JSON.stringify({ stream: 'Custom-Code42FileEvents_CL' })],
    );
    assert.deepEqual(of('Code42Audit')[0]?.logsIngestion, { stream: 'Custom-Code42Audit_CL', dcr: DCR });
    assert.deepEqual(of('VpcFlowLogs')[0]?.logsIngestion, { stream: 'Custom-VpcFlowLogs_CL' });
    assert.ok(of('VpcFlowLogs')[0]?.blobName.startsWith('VpcFlowLogs/'), 'staged under the route’s source name');

    const fileEvents = await staged(of('Code42FileEvents'));
    assert.deepEqual(multiset(fileEvents.map(withoutEnrichment)), multiset(events));
    for (const r of fileEvents) assert.equal(r.TimeGenerated, r['@timestamp']);

    const auditRows = await staged(of('Code42Audit'));
    assert.deepEqual(multiset(auditRows.map(withoutEnrichment)), multiset(audit));
    for (const r of auditRows) assert.equal(r.TimeGenerated, r.timestamp);

    const flowRows = await staged(of('VpcFlowLogs'));
    assert.deepEqual(multiset(flowRows.map(withoutEnrichment)), multiset(flows), 'every field, "-" read as null');
    for (const r of flowRows) {
      assert.equal(r.TimeGenerated, new Date(Number(r.start) * 1000).toISOString(), 'start, as epoch seconds');
    }
    assert.equal(flowRows.filter((r) => r['log-status'] === 'NODATA' && r.srcaddr === null).length, 6);
  });

  it('marks the batches of an ADX-only route so la-uploader leaves them, and of a route to both with its stream', async () => {
    const { publisher, handler } = routedHandler();
    const csv = await put('flows/2026/03/01/flows.csv', Buffer.from('src,dst,bytes\n10.0.0.1,10.0.0.2,42\n'));
    const dns = await put(
      'dns/2026/03/01/q.json',
      Buffer.from('{"q":"example.com","timestamp":"2026-03-01T00:00:00Z"}\n'),
    );
    for (const m of [csv, dns]) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, m.key);
    const flows = publisher.messages.filter((m) => m.source === 'TrafficFlows');
    assert.equal(flows.length, 1);
    assert.equal(flows[0]?.logsIngestion, false, 'ADX only: no Logs Ingestion destination');
    assert.deepEqual(await staged(flows), [
      {
        src: '10.0.0.1',
        dst: '10.0.0.2',
        bytes: '42',
        TimeGenerated: '2020-01-01T00:00:00.000Z',
        _SourceBucket: BUCKET,
        _SourceKey: 'flows/2026/03/01/flows.csv',
        _SourceLine: 2,
      },
    ]);
    const both = publisher.messages.filter((m) => m.source === 'DnsQueries');
    assert.deepEqual(both[0]?.logsIngestion, { stream: 'Custom-DnsQueries_CL' });
  });

  it('dead-letters an object no route claims without reading it, and one whose bytes are not the route’s format', async () => {
    const { publisher, handler } = routedHandler();
    const stray = await put('elsewhere/events.json', Buffer.from('{"a":1}\n'));
    const result = await handler(delivery(stray));
    assert.equal(result.kind, 'deadLetter');
    assert.equal(result.kind === 'deadLetter' && result.reason, 'ForbiddenReference');
    assert.match(
      result.kind === 'deadLetter' ? result.description : '',
      /elsewhere\/events\.json": no route of ROUTES_FILE claims the key/,
    );

    // The audit route says json: NDJSON under it is refused as a document, not half-read.
    const wrong = await put('code42/audit/ndjson-by-mistake.json', Buffer.from('{"a":1}\n{"b":2}\n'));
    const refused = await handler(delivery(wrong));
    assert.equal(refused.kind === 'deadLetter' && refused.reason, 'InvalidDocument');
    assert.equal(publisher.messages.length, 0);
  });
});
