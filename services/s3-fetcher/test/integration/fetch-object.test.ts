import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import {
  objectIdentity,
  type S3ObjectMessage,
  type StagedBatchMessage,
  s3ObjectMessage,
} from '@logferry/shared/messages/index';
import { createRouteTable, singleRoute } from '@logferry/shared/routes/index';
import type { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import { stagedBatchId } from '@logferry/shared/stores/staging';
import type { WorkClaims } from '@logferry/shared/stores/work-claim';
import { stagedRecords as readStagedRecords, recordingStageMetrics } from '@logferry/shared/testing';
import { backfillMessage } from '../../../../cli/src/ops/backfill.ts';
import { parseNotification } from '../../../sqs-poller/src/parse-notification.ts';
import { toS3ObjectMessage } from '../../../sqs-poller/src/to-message.ts';
import { createFetchObjectHandler, type FetchObjectDeps } from '../../src/fetch-object.ts';
import { code42Event, csv, gzipNdjson, multiset, ndjson, type Rec, withoutEnrichment } from './corpus.ts';
import { delivery, type FetcherStores, RecordingPublisher, SETTINGS, startFetcherStores } from './fixture.ts';

const BUCKET = 'code42-logs';
/** The one-route case (SOURCE_NAME=Code42, format sniffed) over the buckets these tests use. */
const ROUTES = createRouteTable([
  singleRoute({ S3_ALLOWED_BUCKETS: [BUCKET, 'metrics-logs'], S3_ALLOWED_PREFIXES: [], SOURCE_NAME: 'Code42' }),
]);

describe('s3-fetcher handler against fauxqs and Azurite', () => {
  let stores: FetcherStores;
  let s3: S3Client;
  let container: ContainerClient;
  let status: ObjectStatusStore;
  let claims: WorkClaims;
  const logger = createLogger('s3-fetcher', { level: process.env.LOG_LEVEL ?? 'silent' });
  const inputs = new Map<string, { records: Rec[]; etag: string }>();

  async function put(key: string, body: Buffer, records: Rec[] = [], bucket = BUCKET): Promise<S3ObjectMessage> {
    const r = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    inputs.set(key, { records, etag: r.ETag ?? '' });
    return message(key, r.ETag, bucket);
  }

  function message(key: string, etag: string | undefined, bucket = BUCKET): S3ObjectMessage {
    return {
      type: 's3-object',
      schemaVersion: 1,
      id: `msg-${key}`,
      producer: 'sqs-poller',
      time: new Date().toISOString(),
      bucket,
      key,
      ...(etag ? { etag: etag.replaceAll('"', '') } : {}),
      eventTime: '2024-02-01T00:00:00.000Z',
      origin: 's3-notification',
    };
  }

  async function stagedRecords(messages: StagedBatchMessage[]): Promise<Rec[]> {
    const out: Rec[] = [];
    for (const m of messages) {
      const records = await readStagedRecords(container, m);
      const props = await container.getBlobClient(m.blobName).getProperties();
      assert.deepEqual(props.metadata, {
        objectid: encodeURIComponent(m.objectId),
        batchindex: String(m.batchIndex),
        recordcount: String(m.recordCount),
        rawbytes: String(m.rawBytes),
        source: 'Code42',
        format: 'json-array',
      });
      assert.ok(m.rawBytes <= SETTINGS.maxBatchBytes, `${m.blobName} over the byte limit`);
      assert.ok(m.recordCount <= SETTINGS.maxBatchRecords);
      for (const r of records) out.push(r as Rec);
    }
    return out;
  }

  function assertWellFormedObject(messages: StagedBatchMessage[]): void {
    const objectId = messages[0]!.objectId;
    assert.deepEqual(
      messages.map((m) => m.batchIndex),
      messages.map((_, i) => i),
    );
    assert.deepEqual(
      messages.map((m) => m.lastBatch),
      messages.map((_, i) => i === messages.length - 1),
    );
    assert.deepEqual(
      messages.map((m) => m.id),
      messages.map((m) => stagedBatchId(objectId, m.batchIndex)),
    );
  }

  before(async () => {
    stores = await startFetcherStores(BUCKET);
    ({ s3, container, status, claims } = stores);
  });
  after(async () => {
    await stores?.stop();
  });

  it('stages a mixed corpus: every record exactly once, enriched, batches within limits', async () => {
    const events = Array.from({ length: 1200 }, (_, i) => code42Event(i));
    const csvRows = [
      ['1', 'alice@example.com', 'said "hi", then\nleft'],
      ['2', 'bob@example.com', ''],
    ];
    const objects = [
      await put('incydr/2024/01/file events 1.json.gz', gzipNdjson(events.slice(0, 400)), events.slice(0, 400)),
      await put(
        'arrays/plus+sign.json',
        Buffer.from(JSON.stringify(events.slice(400, 700), null, 2)),
        events.slice(400, 700),
      ),
      await put(
        'cloudtrail/ünïcødé ✓.json',
        Buffer.from(JSON.stringify({ Records: events.slice(700, 900) })),
        events.slice(700, 900),
      ),
      await put('zstd/events.ndjson', zlib.zstdCompressSync(ndjson(events.slice(900, 1200))), events.slice(900, 1200)),
      await put(
        'csv/users.csv',
        csv(['id', 'email', 'note'], csvRows),
        csvRows.map(([id, email, note]) => ({ id, email, note }) as Rec),
      ),
    ];
    const publisher = new RecordingPublisher();
    const { seen, metrics } = recordingStageMetrics();
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: SETTINGS,
      metrics,
    });
    for (const m of objects) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, m.key);

    for (const m of objects) {
      const input = inputs.get(m.key)!;
      const objectId = `${BUCKET}/${m.key}@${input.etag.replaceAll('"', '')}`;
      const published = publisher.of(objectId);
      assert.ok(published.length > 0, m.key);
      assertWellFormedObject(published);
      const staged = await stagedRecords(published);
      assert.deepEqual(multiset(staged.map(withoutEnrichment)), multiset(input.records), m.key);
      for (const r of staged) {
        assert.equal(r._SourceBucket, BUCKET);
        assert.equal(r._SourceKey, m.key);
        assert.equal(typeof r._SourceLine, 'number');
        const expected = typeof r['@timestamp'] === 'string' ? r['@timestamp'] : '2024-02-01T00:00:00.000Z';
        assert.equal(r.TimeGenerated, expected, m.key);
      }
      const row = await status.get(objectId);
      assert.equal(row?.state, 'staged');
      assert.equal(row?.recordCount, input.records.length);
      assert.equal(row?.batchCount, published.length);
    }
    const total = objects.reduce((n, m) => n + (inputs.get(m.key)?.records.length ?? 0), 0);
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
    const m = await put('big/200k events.json.gz', gzipNdjson(events), events);
    const publisher = new RecordingPublisher();
    const { seen, metrics } = recordingStageMetrics();
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: SETTINGS,
      metrics,
    });
    assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
    const published = [...publisher.messages];
    assert.ok(published.length > 10, `${published.length} batches`);
    assertWellFormedObject(published);
    assert.deepEqual(multiset((await stagedRecords(published)).map(withoutEnrichment)), multiset(events));

    assert.deepEqual(await handler(delivery({ ...m, id: 'redelivered' })), { kind: 'success' });
    assert.equal(publisher.messages.length, published.length, 'nothing published again');
    assert.equal(seen.duplicates, 1);
  });

  it('marks the batches of a source adx-ingester also reads (mappings.json), and only those', async () => {
    const events = [code42Event(1), code42Event(2)];
    const routed = await put('readers/routed.json', Buffer.from(ndjson(events)), events);
    const alone = await put('readers/alone.json', Buffer.from(ndjson(events)), events);
    const handlerFor = (adxReadsSource?: (source: string) => boolean) => {
      const publisher = new RecordingPublisher();
      const handler = createFetchObjectHandler({
        routes: ROUTES,
        s3,
        container,
        status,
        claims,
        publisher,
        logger,
        settings: SETTINGS,
        ...(adxReadsSource ? { adxReadsSource } : {}),
      });
      return { handler, publisher };
    };
    const withAdx = handlerFor((source) => source === 'Code42');
    assert.deepEqual(await withAdx.handler(delivery(routed)), { kind: 'success' });
    assert.ok(withAdx.publisher.messages.length > 0);
    assert.ok(withAdx.publisher.messages.every((m) => m.adxReads === true));
    const laOnly = handlerFor();
    assert.deepEqual(await laOnly.handler(delivery(alone)), { kind: 'success' });
    assert.ok(laOnly.publisher.messages.length > 0);
    assert.ok(laOnly.publisher.messages.every((m) => m.adxReads === undefined));
  });

  it('two deliveries of the same object at once: one stages it, the other retries after the claim', async () => {
    const events = Array.from({ length: 5_000 }, (_, i) => code42Event(i, Date.UTC(2023, 7, 1)));
    const m = await put('twice/duplicate-notification.json.gz', gzipNdjson(events), events);
    const publisher = new RecordingPublisher();
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: SETTINGS,
    });
    const both = await Promise.all([handler(delivery(m)), handler(delivery({ ...m, id: 'second-notification' }))]);
    assert.deepEqual(both.map((o) => o.kind).sort(), ['retryLater', 'success'], JSON.stringify(both));
    const waiting = both.find((o) => o.kind === 'retryLater');
    assert.equal(waiting?.kind === 'retryLater' ? waiting.code : '', 'InFlightElsewhere');
    const published = [...publisher.messages];
    assert.deepEqual(multiset((await stagedRecords(published)).map(withoutEnrichment)), multiset(events));
    assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
    assert.equal(publisher.messages.length, published.length, 'the redelivery finds it staged');
  });

  it('republishes the same batch ids and blob names when an interrupted object is processed again', async () => {
    const events = Array.from({ length: 30_000 }, (_, i) => code42Event(i, Date.UTC(2023, 5, 1)));
    const m = await put('retry/crash-midway.json.gz', gzipNdjson(events), events);
    const flaky = new RecordingPublisher();
    flaky.failAfter = 3;
    const settings = { ...SETTINGS, publishGroupSize: 2 };
    const first = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher: flaky,
      logger,
      settings,
    });
    const outcome = await first(delivery(m));
    assert.equal(outcome.kind, 'retryLater');
    assert.ok(flaky.messages.length > 0 && flaky.messages.length <= 3);

    const good = new RecordingPublisher();
    const second = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher: good,
      logger,
      settings,
    });
    assert.deepEqual(await second(delivery(m)), { kind: 'success' });
    for (const early of flaky.messages) {
      const again = good.messages.find((x) => x.batchIndex === early.batchIndex);
      assert.equal(again?.id, early.id);
      assert.equal(again?.blobName, early.blobName);
    }
    assert.deepEqual(multiset((await stagedRecords(good.messages)).map(withoutEnrichment)), multiset(events));
  });

  it('dead-letters poison objects with readable reasons and counts bad lines without failing', async () => {
    const publisher = new RecordingPublisher();
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: SETTINGS,
    });
    const gz = gzipNdjson([code42Event(1), code42Event(2)]);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x42, 12, 60);
    const cases: [S3ObjectMessage, string][] = [
      [message('missing/never-uploaded.json.gz', undefined), 'ObjectNotFound'],
      [await put('poison/corrupt.json.gz', corrupt), 'CorruptCompression'],
      [await put('poison/notes.txt', Buffer.from('this is not json\nand not csv either\n')), 'InvalidDocument'],
      [await put('poison/truncated.json', Buffer.from('[{"a":1},{"b":')), 'TruncatedDocument'],
      [await put('poison/empty.json', Buffer.alloc(0)), 'InvalidDocument'],
    ];
    for (const [m, reason] of cases) {
      const result = await handler(delivery(m));
      assert.equal(result.kind, 'deadLetter', m.key);
      assert.equal(result.kind === 'deadLetter' && result.reason, reason, m.key);
      assert.match(result.kind === 'deadLetter' ? result.description : '', new RegExp(m.key.replaceAll('.', '\\.')));
    }
    assert.equal(publisher.messages.length, 0);
    const row = await status.get(
      `${BUCKET}/poison/corrupt.json.gz@${inputs.get('poison/corrupt.json.gz')!.etag.replaceAll('"', '')}`,
    );
    assert.equal(row?.state, 'failed');
    assert.equal(row?.reason, 'CorruptCompression');

    const mixed = await put('poison/some-bad-lines.json', Buffer.from('{"a":1}\nnot json\n{"b":2}\n'));
    assert.deepEqual(await handler(delivery(mixed)), { kind: 'success' });
    assert.equal(publisher.messages.length, 1);
    assert.equal(publisher.messages[0]?.recordCount, 2);
  });

  it('stops and asks for a retry when the lock is lost mid-object', async () => {
    const events = Array.from({ length: 20_000 }, (_, i) => code42Event(i));
    const m = await put('abort/lock-lost.json.gz', gzipNdjson(events), events);
    const controller = new AbortController();
    const publisher = new RecordingPublisher();
    const original = publisher.publish.bind(publisher);
    publisher.publish = async (topic, messages) => {
      await original(topic, messages);
      controller.abort(new Error('lock lost'));
    };
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: { ...SETTINGS, publishGroupSize: 1 },
    });
    const result = await handler(delivery(m, controller.signal));
    assert.equal(result.kind, 'retryLater');
    assert.ok(publisher.messages.length < 10, 'stopped soon after the abort');
    // Not staged: the row shows the attempt that started (the page's "fetching"), for the redelivery to finish.
    const row = await status.get(publisher.messages[0]!.objectId);
    assert.equal(row?.state, 'fetching');
    assert.equal(row?.attempts, 1);
  });

  it('one identity for one object, whoever announces it: SQS notification, SNS, backfill, or GetObject', async () => {
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

    const { seen, metrics } = recordingStageMetrics();
    const publisher = new RecordingPublisher();
    const handler = createFetchObjectHandler({
      routes: ROUTES,
      s3,
      container,
      status,
      claims,
      publisher,
      logger,
      settings: SETTINGS,
      metrics,
    });
    for (const [who, m] of producers) assert.deepEqual(await handler(delivery(m)), { kind: 'success' }, who);
    // Announced by neither version nor ETag: s3-fetcher derives the identity from GetObject's quoted answer.
    const bare = s3ObjectMessage({ id: 'no-etag', producer: 'cli' }, { bucket: BUCKET, key, origin: 'backfill' });
    assert.equal(objectIdentity(bare), undefined);
    assert.deepEqual(await handler(delivery(bare)), { kind: 'success' });

    assert.equal(seen.duplicates, producers.length, 'staged once, recognised as done for every other producer');
    assert.deepEqual([...new Set(publisher.messages.map((m) => m.objectId))], [expected]);
    assert.equal((await status.get(expected))?.state, 'staged');
  });

  describe('metrics', () => {
    // A bucket of their own, so the objects here are not the ones the tests above already staged or failed.
    const METRICS_BUCKET = 'metrics-logs';
    before(async () => {
      await s3.send(new CreateBucketCommand({ Bucket: METRICS_BUCKET }));
    });

    /** A handler that reports its metrics to a fresh recorder. */
    function metered(extra: Partial<Pick<FetchObjectDeps, 'routes'>> = {}) {
      const { seen, metrics } = recordingStageMetrics();
      const publisher = new RecordingPublisher();
      const base = { s3, container, status, claims, logger, settings: SETTINGS, routes: ROUTES };
      const handler = createFetchObjectHandler({ ...base, publisher, metrics, ...extra });
      return { seen, publisher, handler };
    }

    it('counts records and bytes once, a redelivery as a duplicate, and leaves messages out to the transport', async () => {
      const { seen, publisher, handler } = metered();
      const events = Array.from({ length: 50 }, (_, i) => code42Event(i));
      const body = gzipNdjson(events);
      const m = await put('ok/events.json.gz', body, events, METRICS_BUCKET);
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
      const { seen, publisher, handler } = metered({ routes });
      const corrupt = Buffer.from(gzipNdjson([code42Event(1), code42Event(2)]));
      corrupt.fill(0x42, 12, 60);
      const outcomes = [
        await handler(delivery(message('elsewhere.json', undefined, 'other-bucket'))),
        await handler(delivery(message('missing/never-uploaded.json.gz', undefined, METRICS_BUCKET))),
        await handler(delivery(await put('poison/corrupt.json.gz', corrupt, [], METRICS_BUCKET))),
      ];
      publisher.failAfter = 0;
      outcomes.push(
        await handler(delivery(await put('retry/unpublished.json', Buffer.from('{"a":1}\n'), [], METRICS_BUCKET))),
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
