import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3ObjectMessage } from '@logferry/shared/messages/index';
import { announcementId, toS3ObjectMessage } from '../../src/to-message.ts';

const now = new Date('2024-05-01T12:00:05.000Z');

describe('s3-objects message from an announcement', () => {
  it('builds a message that fits the topic schema', () => {
    const r = toS3ObjectMessage(
      {
        bucket: 'logs-bucket',
        key: 'a b.json',
        size: 3,
        etag: 'e',
        sequencer: 's',
        eventTime: '2024-05-01T12:00:00.000Z',
      },
      'sns',
      now,
    );
    assert.ok(r.ok);
    assert.equal(S3ObjectMessage.parse(r.message).origin, 'sns');
    assert.equal(r.message.producer, 'sqs-poller');
    assert.equal(r.message.time, now.toISOString());
    assert.equal(r.message.key, 'a b.json');
  });

  it('derives the same id for a redelivered notification and a new one for a new sequencer', () => {
    const o = { bucket: 'logs-bucket', key: 'k', etag: 'e1', sequencer: 's1' };
    assert.equal(announcementId(o), announcementId({ ...o }));
    assert.notEqual(announcementId(o), announcementId({ ...o, sequencer: 's2' }));
    assert.notEqual(announcementId(o), announcementId({ ...o, versionId: 'v1' }));
    assert.match(announcementId({ ...o, key: 'x'.repeat(1024) }), /^s3obj-[0-9a-f]{64}$/);
  });

  it('reports what does not fit instead of producing an invalid message', () => {
    const r = toS3ObjectMessage({ bucket: 'logs-bucket', key: 'k', etag: 'e'.repeat(300) }, 's3-notification', now);
    assert.equal(r.ok, false);
  });
});
