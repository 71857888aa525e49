import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formDecode, parseNotification, type RecordVerdict } from '../../src/parse-notification.ts';
import { eventBridge, s3Event, s3Record, snsWrapped, testEvent } from '../fixtures.ts';

function objects(records: readonly RecordVerdict[]) {
  return records.flatMap((r) => (r.verdict === 'object' ? [r.object] : []));
}

describe('parseNotification', () => {
  it('reads a direct S3 notification with every object field', () => {
    const p = parseNotification(
      s3Event({
        bucket: 'logs-bucket',
        encodedKey: 'a/b.json.gz',
        size: 42,
        eTag: 'e1',
        versionId: 'v1',
        sequencer: 's1',
      }),
    );
    assert.equal(p.kind, 'notification');
    assert.ok(p.kind === 'notification');
    assert.equal(p.origin, 's3-notification');
    assert.deepEqual(objects(p.records), [
      {
        bucket: 'logs-bucket',
        key: 'a/b.json.gz',
        size: 42,
        etag: 'e1',
        versionId: 'v1',
        sequencer: 's1',
        eventTime: '2024-05-01T12:00:00.000Z',
      },
    ]);
  });

  it('form-decodes keys: + is a space, %2B is a plus, percent-escaped UTF-8 is unicode', () => {
    const cases: [string, string][] = [
      ['dir/my+file.json', 'dir/my file.json'],
      ['a%2Bb.json', 'a+b.json'],
      ['r%C3%A9sum%C3%A9+%E2%82%AC%F0%9F%93%A6.json', 'résumé €📦.json'],
      ['100%25.json', '100%.json'],
      ['plain/key.ndjson', 'plain/key.ndjson'],
    ];
    for (const [encoded, decoded] of cases) {
      const p = parseNotification(s3Event({ bucket: 'logs-bucket', encodedKey: encoded }));
      assert.ok(p.kind === 'notification');
      assert.equal(objects(p.records)[0]?.key, decoded, encoded);
    }
  });

  it('treats a malformed percent-escape as a poison record, not a crash', () => {
    const p = parseNotification(
      s3Event({ bucket: 'logs-bucket', encodedKey: 'bad%E2%82' }, { bucket: 'logs-bucket', encodedKey: 'ok' }),
    );
    assert.ok(p.kind === 'notification');
    assert.equal(p.records[0]?.verdict, 'poison');
    assert.equal(p.records[1]?.verdict, 'object');
    assert.equal(formDecode('%ZZ'), undefined);
  });

  it('unwraps SNS envelopes', () => {
    const p = parseNotification(snsWrapped(s3Event({ bucket: 'logs-bucket', encodedKey: 'x+y.json' })));
    assert.ok(p.kind === 'notification');
    assert.equal(p.origin, 'sns');
    assert.equal(objects(p.records)[0]?.key, 'x y.json');
  });

  it('reads EventBridge Object Created events without form-decoding the key', () => {
    const p = parseNotification(eventBridge({ bucket: 'logs-bucket', key: 'a+b %2B.json', versionId: 'v9' }));
    assert.ok(p.kind === 'notification');
    assert.equal(p.origin, 'eventbridge');
    assert.deepEqual(objects(p.records), [
      {
        bucket: 'logs-bucket',
        key: 'a+b %2B.json',
        size: 5,
        etag: 'b1946ac92492d2347c6235b4d2611184',
        versionId: 'v9',
        sequencer: '617f08299329d189',
        eventTime: '2024-05-01T12:00:02.000Z',
      },
    ]);
  });

  it('acknowledges other EventBridge S3 events', () => {
    const p = parseNotification(eventBridge({ bucket: 'logs-bucket', key: 'k', detailType: 'Object Deleted' }));
    assert.ok(p.kind === 'notification');
    assert.deepEqual(p.records, [{ verdict: 'ignore', reason: 'not-object-created', detail: 'Object Deleted' }]);
  });

  it('acknowledges the s3:TestEvent, direct or through SNS', () => {
    for (const body of [testEvent('logs-bucket'), snsWrapped(testEvent('logs-bucket'))]) {
      const p = parseNotification(body);
      assert.ok(p.kind === 'notification');
      assert.deepEqual(p.records, [{ verdict: 'ignore', reason: 'test-event' }]);
    }
  });

  it('acknowledges non-ObjectCreated records and keeps the rest', () => {
    const p = parseNotification(
      s3Event(
        { bucket: 'logs-bucket', encodedKey: 'gone', eventName: 'ObjectRemoved:Delete' },
        { bucket: 'logs-bucket', encodedKey: 'new', eventName: 'ObjectCreated:CompleteMultipartUpload' },
      ),
    );
    assert.ok(p.kind === 'notification');
    assert.deepEqual(p.records[0], { verdict: 'ignore', reason: 'not-object-created', detail: 'ObjectRemoved:Delete' });
    assert.equal(objects(p.records)[0]?.key, 'new');
  });

  it('does not pin eventVersion and ignores unknown fields', () => {
    const record = {
      ...s3Record({ bucket: 'logs-bucket', encodedKey: 'k' }),
      eventVersion: '2.3',
      glacierEventData: {},
      extra: 1,
    };
    const p = parseNotification(JSON.stringify({ Records: [record] }));
    assert.ok(p.kind === 'notification');
    assert.equal(objects(p.records).length, 1);
  });

  it('marks a record missing its object as poison', () => {
    const record = s3Record({ bucket: 'logs-bucket', encodedKey: 'k' });
    delete (record.s3 as Record<string, unknown>).object;
    const p = parseNotification(JSON.stringify({ Records: [record] }));
    assert.ok(p.kind === 'notification');
    assert.equal(p.records[0]?.verdict, 'poison');
  });

  it('keeps an unreadable event time out instead of refusing the object', () => {
    const record = { ...s3Record({ bucket: 'logs-bucket', encodedKey: 'k' }), eventTime: 'yesterday' };
    const p = parseNotification(JSON.stringify({ Records: [record] }));
    assert.ok(p.kind === 'notification');
    assert.equal(objects(p.records)[0]?.eventTime, undefined);
  });

  it('says when a body is not a notification at all', () => {
    for (const body of [
      'hello',
      '',
      '[1,2]',
      'null',
      '{"foo":1}',
      JSON.stringify({ Type: 'Notification', Message: 'not json' }),
    ]) {
      const p = parseNotification(body);
      assert.equal(p.kind, 'not-a-notification', body);
      assert.ok(p.kind === 'not-a-notification' && p.reason.length > 0);
    }
  });
});
