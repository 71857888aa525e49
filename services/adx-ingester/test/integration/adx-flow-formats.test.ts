import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { QueueClient } from '@azure/storage-queue';
import { type AdxFlow, FLOWS_HEADER, flows, startAdxFlow } from '../support/adx-flow-fixture.ts';

describe('adx-ingester and completion-checker on Azurite and the ADX stand-in: source formats: CSV with its mapping, JSON lines, gzip multijson; no mapping, empty, malformed', () => {
  let flow: AdxFlow;
  before(async () => {
    flow = await startAdxFlow();
  });
  after(async () => {
    await flow?.close();
  });

  it('CSV with its mapping, a name with spaces, + and #: rows in ADX, row succeeded, result published', async () => {
    const name = 'TrafficFlows-2024 05 01 a+b#c.csv';
    const { outcome } = await flow.uploadAndRequest(name, flows(3));
    assert.equal(outcome.kind, 'success');
    const ingesting = await flow.store.get('data', name);
    assert.equal(ingesting?.status, 'ingesting');
    assert.match(ingesting?.sourceId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(ingesting?.postedAt);
    const row = await flow.settle(name);
    assert.equal(row.status, 'succeeded');
    assert.equal(row.table, 'TrafficFlows');
    const rows = flow.adx.rows('TrafficFlows').filter((r) => r.DstIp === '192.0.2.1');
    assert.equal(rows.length, 3, 'header skipped, three records');
    assert.deepEqual(rows[0], {
      TimeGenerated: '2024-05-01T10:00:00.000Z',
      SrcIp: '10.0.0.0',
      DstIp: '192.0.2.1',
      SrcPort: 50000,
      DstPort: 443,
      Protocol: 'TCP',
      Bytes: 100,
      Packets: 1,
      Action: 'Allow',
    });
    const result = flow.publisher.of('ingestion-results').find((r) => r.blobName === name);
    assert.equal(result?.status, 'succeeded');
    assert.equal(result?.sourceId, row.sourceId);
    const left = await new QueueClient((await flow.queues.get()).success[0]!.url).peekMessages({
      numberOfMessages: 32,
    });
    assert.equal(left.peekedMessageItems.length, 0, 'the report was deleted after the save');
  });

  it('JSON lines and gzip multijson sources succeed; a redelivered request does not ingest twice', async () => {
    const auth = `${JSON.stringify({ time: '2024-05-01T10:00:00Z', user: { upn: 'a@x.test' }, result: 'Success', client: { ip: '10.1.1.1' }, app: 'portal' })}\n`;
    const { request } = await flow.uploadAndRequest('AuthEvents-1.json', auth);
    assert.equal((await flow.handle(request)).kind, 'success', 'redelivery');
    const dns = gzipSync(
      '{"ts":"2024-05-01T10:00:00Z","client":"10.0.0.5","query":{"name":"example.com","type":"A"},"rcode":"NOERROR"}\n{"ts":"2024-05-01T10:00:01Z","client":"10.0.0.5","query":{"name":"example.org","type":"A"},"rcode":"NOERROR"}',
    );
    await flow.uploadAndRequest('DnsQueries-1.json.gz', dns);
    assert.equal((await flow.settle('AuthEvents-1.json')).status, 'succeeded');
    assert.equal((await flow.settle('DnsQueries-1.json.gz')).status, 'succeeded');
    assert.deepEqual(
      flow.adx.rows('AuthEvents').map((r) => r.UserPrincipalName),
      ['a@x.test'],
    );
    assert.deepEqual(
      flow.adx.rows('DnsQueries').map((r) => r.QueryName),
      ['example.com', 'example.org'],
    );
    assert.equal(flow.adx.ingestions().filter((i) => i.blobName === 'AuthEvents-1.json').length, 1);
  });

  it('no mapping → skipped with the reason, not retried; malformed CSV → failed with the reason', async () => {
    const { outcome } = await flow.uploadAndRequest('Unknown-1.csv', 'a,b\n1,2\n');
    assert.equal(outcome.kind, 'success');
    const skipped = await flow.store.get('data', 'Unknown-1.csv');
    assert.equal(skipped?.status, 'skipped');
    assert.match(skipped?.lastError ?? '', /^NoMapping: .*"Unknown"/);
    assert.ok(!flow.adx.ingestions().some((i) => i.blobName === 'Unknown-1.csv'));
    const skippedResult = flow.publisher.of('ingestion-results').find((r) => r.blobName === 'Unknown-1.csv');
    assert.equal(skippedResult?.status, 'skipped');
    assert.equal(skippedResult?.sourceId, undefined);
    assert.match(skippedResult?.details ?? '', /^NoMapping: /);

    assert.equal((await flow.uploadAndRequest('TrafficFlows-empty.csv', '')).outcome.kind, 'success');
    assert.equal((await flow.store.get('data', 'TrafficFlows-empty.csv'))?.status, 'skipped');
    assert.equal(
      flow.publisher.of('ingestion-results').find((r) => r.blobName === 'TrafficFlows-empty.csv')?.status,
      'skipped',
    );

    await flow.uploadAndRequest('TrafficFlows-bad.csv', `${FLOWS_HEADER}2024-05-01T10:00:00Z,10.0.0.1\n`);
    const failed = await flow.settle('TrafficFlows-bad.csv');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, 'Stream_WrongNumberOfFields');
    assert.equal(failed.failureStatus, 'Permanent');
    assert.match(failed.lastError ?? '', /Stream_WrongNumberOfFields \(Permanent\): record 1 has 2 fields/);
    assert.equal(
      flow.publisher.of('ingestion-results').find((r) => r.blobName === 'TrafficFlows-bad.csv')?.status,
      'failed',
    );
    assert.equal(
      (
        await flow.store.claim(
          { container: 'data', name: 'TrafficFlows-bad.csv', etag: failed.etag, size: failed.size },
          's',
          3,
        )
      ).outcome,
      'unchanged',
    );
  });
});
