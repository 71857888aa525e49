// s3-fetcher's handler on what it cannot stage: poison objects dead-lettered with a reason, failures counted.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import type { S3ObjectMessage } from '@logferry/shared/messages/index';
import { createRouteTable, singleRoute } from '@logferry/shared/routes/index';
import { code42Event, gzipNdjson } from './corpus.ts';
import { BUCKET, METRICS_BUCKET, useFetchObjectHarness } from './fetch-object-support.ts';
import { delivery } from './fixture.ts';

describe('s3-fetcher handler on failures (fauxqs, Azurite)', () => {
  const harness = useFetchObjectHarness();

  it('dead-letters poison objects with readable reasons and counts bad lines without failing', async () => {
    const { handler, publisher } = harness.handler();
    const gz = gzipNdjson([code42Event(1), code42Event(2)]);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x42, 12, 60);
    const corruptObject = await harness.put('poison/corrupt.json.gz', corrupt);
    const cases: [S3ObjectMessage, string][] = [
      [harness.message('missing/never-uploaded.json.gz', undefined), 'ObjectNotFound'],
      [corruptObject, 'CorruptCompression'],
      [await harness.put('poison/notes.txt', Buffer.from('this is not json\nand not csv either\n')), 'InvalidDocument'],
      [await harness.put('poison/truncated.json', Buffer.from('[{"a":1},{"b":')), 'TruncatedDocument'],
      [await harness.put('poison/empty.json', Buffer.alloc(0)), 'InvalidDocument'],
    ];
    for (const [m, reason] of cases) {
      const result = await handler(delivery(m));
      assert.equal(result.kind, 'deadLetter', m.key);
      assert.equal(result.kind === 'deadLetter' && result.reason, reason, m.key);
      assert.match(result.kind === 'deadLetter' ? result.description : '', new RegExp(m.key.replaceAll('.', '\\.')));
    }
    assert.equal(publisher.messages.length, 0);
    const row = await harness.stores.status.get(`${BUCKET}/poison/corrupt.json.gz@${corruptObject.etag}`);
    assert.equal(row?.state, 'failed');
    assert.equal(row?.reason, 'CorruptCompression');

    const mixed = await harness.put('poison/some-bad-lines.json', Buffer.from('{"a":1}\nnot json\n{"b":2}\n'));
    assert.deepEqual(await handler(delivery(mixed)), { kind: 'success' });
    assert.equal(publisher.messages.length, 1);
    assert.equal(publisher.messages[0]?.recordCount, 2);
  });

  describe('metrics', () => {
    before(async () => {
      await harness.stores.s3.send(new CreateBucketCommand({ Bucket: METRICS_BUCKET }));
    });

    it('counts records and bytes once, a redelivery as a duplicate, and leaves messages out to the transport', async () => {
      const { seen, publisher, handler } = harness.handler();
      const events = Array.from({ length: 50 }, (_, i) => code42Event(i));
      const body = gzipNdjson(events);
      const m = await harness.put('ok/events.json.gz', body, METRICS_BUCKET);
      assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
      assert.deepEqual(await handler(delivery({ ...m, id: 'redelivered' })), { kind: 'success' });
      assert.deepEqual(seen, { records: 50, bytes: body.length, duplicates: 1, failures: [] });
      assert.equal(
        publisher.messages.length,
        1,
        'one batch published; the transport counts it as logferry.messages.out',
      );
    });

    it('counts every failed attempt by its reason code, dead-lettered or retried', async () => {
      const routes = createRouteTable([singleRoute({ S3_ALLOWED_BUCKETS: [METRICS_BUCKET], S3_ALLOWED_PREFIXES: [] })]);
      const { seen, publisher, handler } = harness.handler({ routes });
      const corrupt = Buffer.from(gzipNdjson([code42Event(1), code42Event(2)]));
      corrupt.fill(0x42, 12, 60);
      const outcomes = [
        await handler(delivery(harness.message('elsewhere.json', undefined, 'other-bucket'))),
        await handler(delivery(harness.message('missing/never-uploaded.json.gz', undefined, METRICS_BUCKET))),
        await handler(delivery(await harness.put('poison/corrupt.json.gz', corrupt, METRICS_BUCKET))),
      ];
      publisher.failAfter = 0;
      outcomes.push(
        await handler(delivery(await harness.put('retry/unpublished.json', Buffer.from('{"a":1}\n'), METRICS_BUCKET))),
      );
      assert.deepEqual(
        outcomes.map((o) => o.kind),
        ['deadLetter', 'deadLetter', 'deadLetter', 'retryLater'],
      );
      // Each failure reason as the metric exports it.
      assert.deepEqual(seen.failures, ['ForbiddenReference', 'ObjectNotFound', 'CorruptCompression', 'StagingFailed']);
      assert.equal(seen.records, 0);
    });
  });
});
