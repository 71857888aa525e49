import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { objectIdentity, type S3ObjectMessage } from '@logferry/shared/messages/index';
import { classifyS3Error } from '../../src/classify-error.ts';
import { sourceOf } from '../../src/source-of.ts';

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('classifyS3Error', () => {
  it('dead-letters what retrying cannot fix, with a reason an operator can act on', () => {
    const reason = (err: unknown) => {
      const o = classifyS3Error(err, 's3://b/k');
      return o.kind === 'deadLetter' ? o.reason : o.kind;
    };
    assert.equal(reason(s3Error('NoSuchKey', 404)), 'ObjectNotFound');
    assert.equal(reason(s3Error('NoSuchBucket', 404)), 'ObjectNotFound');
    assert.equal(reason(s3Error('NotFound', 404)), 'ObjectNotFound');
    assert.equal(reason(s3Error('InvalidObjectState', 403)), 'ObjectArchived');
    assert.equal(reason(s3Error('PreconditionFailed', 412)), 'ObjectChanged');
    assert.equal(reason(s3Error('InvalidArgument', 400)), 'S3RequestRejected');
  });

  it('retries throttling, server errors, timeouts and network faults', () => {
    for (const err of [
      s3Error('SlowDown', 503),
      s3Error('InternalError', 500),
      s3Error('RequestTimeout', 400),
      s3Error('TooManyRequests', 429),
      // Denied is the role's fault far more often than the object's: retried, dead-lettered past the attempts.
      s3Error('AccessDenied', 403),
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      Object.assign(new Error('timed out'), { name: 'TimeoutError' }),
    ]) {
      assert.equal(classifyS3Error(err, 's3://b/k').kind, 'retryLater', String(err));
    }
  });
});

describe('object identity and source', () => {
  it('is bucket/key@version, else @etag without quotes', () => {
    assert.equal(objectIdentity({ bucket: 'b', key: 'k 1', versionId: 'v9', etag: '"e"' }), 'b/k 1@v9');
    assert.equal(objectIdentity({ bucket: 'b', key: 'k', etag: '"abc-2"' }), 'b/k@abc-2');
    assert.equal(
      objectIdentity({ bucket: 'b', key: 'k', versionId: 'null', etag: 'abc' }),
      'b/k@abc',
      "S3's 'null' version of unversioned buckets",
    );
    assert.equal(objectIdentity({ bucket: 'b', key: 'k' }), undefined);
    const announced: S3ObjectMessage = {
      type: 's3-object',
      schemaVersion: 1,
      id: 'x',
      producer: 'sqs-poller',
      time: '2024-01-01T00:00:00Z',
      bucket: 'bkt',
      key: 'a/b',
      etag: 'e1',
      origin: 'sns',
    };
    assert.equal(objectIdentity(announced), 'bkt/a/b@e1');
  });

  it('names the source by configuration or by the first key segment', () => {
    assert.deepEqual(sourceOf('incydr/2024/x.json', 'Code42', false), { ok: true, source: 'Code42' });
    assert.deepEqual(sourceOf('incydr/2024/x.json', 'Code42', true), { ok: true, source: 'incydr' });
    assert.deepEqual(sourceOf('x.json', 'Code42', true), { ok: true, source: 'Code42' });
    assert.deepEqual(sourceOf('my logs.v2/x.json', 'Code42', true), { ok: true, source: 'my_logs_v2' });
    // A segment that cannot be a source name is refused, never turned into a path.
    for (const key of ['../evil.json', './x.json', '.hidden/x', '__/x', `${'a'.repeat(65)}/x`]) {
      const r = sourceOf(key, 'Code42', true);
      assert.equal(r.ok, false, key);
    }
  });
});
