// s3-fetcher's handler stages what S3 holds: every record once, in well-formed batches, under one object identity.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { objectIdentity, type S3ObjectMessage, s3ObjectMessage } from '@logferry/shared/messages/index';
import { backfillMessage } from '../../../../cli/src/ops/backfill.ts';
import { parseNotification } from '../../../sqs-poller/src/parse-notification.ts';
import { toS3ObjectMessage } from '../../../sqs-poller/src/to-message.ts';
import { code42Event, csv, gzipNdjson, multiset, ndjson, type Rec, withoutEnrichment } from './corpus.ts';
import { assertWellFormedObject, BUCKET, checkedStagedRecords, useFetchObjectHarness } from './fetch-object-support.ts';
import { delivery } from './fixture.ts';

describe('s3-fetcher handler staging objects (fauxqs, Azurite)', () => {
  const harness = useFetchObjectHarness();

  it('stages a mixed corpus: every record exactly once, enriched, batches within limits', async () => {
    const events = Array.from({ length: 1200 }, (_, i) => code42Event(i));
    const csvRows = [
      ['1', 'alice@example.com', 'said "hi", then\nleft'],
      ['2', 'bob@example.com', ''],
    ];
    const inputs: [Buffer, Rec[], string][] = [
      [gzipNdjson(events.slice(0, 400)), events.slice(0, 400), 'incydr/2024/01/file events 1.json.gz'],
      [Buffer.from(JSON.stringify(events.slice(400, 700), null, 2)), events.slice(400, 700), 'arrays/plus+sign.json'],
      [
        Buffer.from(JSON.stringify({ Records: events.slice(700, 900) })),
        events.slice(700, 900),
        'cloudtrail/ünïcødé ✓.json',
      ],
      [zlib.zstdCompressSync(ndjson(events.slice(900, 1200))), events.slice(900, 1200), 'zstd/events.ndjson'],
      [
        csv(['id', 'email', 'note'], csvRows),
        csvRows.map(([id, email, note]) => ({ id, email, note }) as Rec),
        'csv/users.csv',
      ],
    ];
    const objects: { message: S3ObjectMessage; records: Rec[] }[] = [];
    for (const [body, records, key] of inputs) objects.push({ message: await harness.put(key, body), records });
    const { handler, publisher, seen } = harness.handler();
    for (const { message: m } of objects) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, m.key);

    for (const { message: m, records } of objects) {
      const objectId = `${BUCKET}/${m.key}@${m.etag}`;
      const published = publisher.of(objectId);
      assert.ok(published.length > 0, m.key);
      assertWellFormedObject(published);
      const staged = await checkedStagedRecords(harness, published);
      assert.deepEqual(multiset(staged.map(withoutEnrichment)), multiset(records), m.key);
      for (const r of staged) {
        assert.equal(r._SourceBucket, BUCKET);
        assert.equal(r._SourceKey, m.key);
        assert.equal(typeof r._SourceLine, 'number');
        const expected = typeof r['@timestamp'] === 'string' ? r['@timestamp'] : '2024-02-01T00:00:00.000Z';
        assert.equal(r.TimeGenerated, expected, m.key);
      }
      const row = await harness.stores.status.get(objectId);
      assert.equal(row?.state, 'staged');
      assert.equal(row?.recordCount, records.length);
      assert.equal(row?.batchCount, published.length);
    }
    const total = objects.reduce((n, { records }) => n + records.length, 0);
    assert.equal(seen.records, total, 'every object staged, each record counted once');
    assert.deepEqual([seen.duplicates, seen.failures], [0, []]);
  });

  it('streams a 200k-record object in many batches and does not stage it again on redelivery', async () => {
    // Small records keep the test quick; the bench covers large ones.
    const t0 = Date.UTC(2024, 0, 1);
    const events = Array.from({ length: 200_000 }, (_, i) => ({
      '@timestamp': new Date(t0 + i).toISOString(),
      id: i,
      user: `u${i % 101}`,
    }));
    const m = await harness.put('big/200k events.json.gz', gzipNdjson(events));
    const { handler, publisher, seen } = harness.handler();
    assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
    const published = [...publisher.messages];
    assert.ok(published.length > 10, `${published.length} batches`);
    assertWellFormedObject(published);
    assert.deepEqual(
      multiset((await checkedStagedRecords(harness, published)).map(withoutEnrichment)),
      multiset(events),
    );

    assert.deepEqual(await handler(delivery({ ...m, id: 'redelivered' })), { kind: 'success' });
    assert.equal(publisher.messages.length, published.length, 'nothing published again');
    assert.equal(seen.duplicates, 1);
  });

  it('marks the batches of a source adx-ingester also reads (mappings.json), and only those', async () => {
    const events = [code42Event(1), code42Event(2)];
    const routed = await harness.put('readers/routed.json', Buffer.from(ndjson(events)));
    const alone = await harness.put('readers/alone.json', Buffer.from(ndjson(events)));
    const withAdx = harness.handler({ adxReadsSource: (source) => source === 'Code42' });
    assert.deepEqual(await withAdx.handler(delivery(routed)), { kind: 'success' });
    assert.ok(withAdx.publisher.messages.length > 0);
    assert.ok(withAdx.publisher.messages.every((m) => m.adxReads === true));
    const laOnly = harness.handler();
    assert.deepEqual(await laOnly.handler(delivery(alone)), { kind: 'success' });
    assert.ok(laOnly.publisher.messages.length > 0);
    assert.ok(laOnly.publisher.messages.every((m) => m.adxReads === undefined));
  });

  it('one identity for one object, whoever announces it: SQS notification, SNS, backfill, or GetObject', async () => {
    const { s3 } = harness.stores;
    const key = 'identity/one object+.json';
    const body = Buffer.from(ndjson([code42Event(1), code42Event(2)]));
    const put = await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const quoted = put.ETag ?? '';
    assert.match(quoted, /^".+"$/, 'S3 answers with a quoted ETag');
    const s3Record = (versionId?: string) => ({
      eventName: 'ObjectCreated:Put',
      eventTime: '2024-02-01T00:00:00.000Z',
      s3: {
        bucket: { name: BUCKET },
        object: {
          key: 'identity/one+object%2B.json',
          size: body.length,
          eTag: quoted.replaceAll('"', ''),
          sequencer: '0A1',
          ...(versionId === undefined ? {} : { versionId }),
        },
      },
    });
    const announced = (notification: string): S3ObjectMessage => {
      const parsed = parseNotification(notification);
      assert.equal(parsed.kind, 'notification');
      const record = parsed.kind === 'notification' ? parsed.records[0] : undefined;
      assert.equal(record?.verdict, 'object');
      const built =
        record?.verdict === 'object'
          ? toS3ObjectMessage(record.object, parsed.kind === 'notification' ? parsed.origin : 'sns', new Date())
          : undefined;
      assert.ok(built?.ok);
      return built.message;
    };
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'identity/' }));
    const entry = listed.Contents?.find((c) => c.Key === key);
    assert.ok(entry?.ETag);
    const producers: [string, S3ObjectMessage][] = [
      ['sqs-poller, S3 notification', announced(JSON.stringify({ Records: [s3Record()] }))],
      // Buckets with versioning suspended announce the version as the string "null".
      ['sqs-poller, "null" version', announced(JSON.stringify({ Records: [s3Record('null')] }))],
      [
        'sqs-poller, SNS-wrapped',
        announced(JSON.stringify({ Type: 'Notification', Message: JSON.stringify({ Records: [s3Record('')] }) })),
      ],
      [
        'cli backfill (quoted ETag from the listing)',
        backfillMessage(BUCKET, key, body.length, entry.ETag, entry.LastModified, new Date()),
      ],
    ];
    const expected = `${BUCKET}/${key}@${quoted.replaceAll('"', '')}`;
    for (const [who, m] of producers) assert.equal(objectIdentity(m), expected, who);

    const { handler, publisher, seen } = harness.handler();
    for (const [who, m] of producers) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, who);
    // Announced by neither version nor ETag: s3-fetcher derives the identity from GetObject's quoted answer.
    const bare = s3ObjectMessage({ id: 'no-etag', producer: 'cli' }, { bucket: BUCKET, key, origin: 'backfill' });
    assert.equal(objectIdentity(bare), undefined);
    assert.deepEqual(await handler(delivery(bare)), { kind: 'success' });

    assert.equal(seen.duplicates, producers.length, 'staged once, recognised as done for every other producer');
    assert.deepEqual([...new Set(publisher.messages.map((m) => m.objectId))], [expected]);
    assert.equal((await harness.stores.status.get(expected))?.state, 'staged');
  });
});
