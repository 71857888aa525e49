import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyS3Error } from '../../src/classify-error.ts';

function s3Error(name: string, status: number): Error {
  return Object.assign(new Error(`${name}: happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('s3-fetcher failure reasons', () => {
  it('gives every retry a code the failure metric counts by', () => {
    const code = (err: unknown) => {
      const o = classifyS3Error(err, 's3://b/k: odd key');
      assert.equal(o.kind, 'retryLater', String(err));
      return o.kind === 'retryLater' ? o.code : '';
    };
    assert.equal(code(s3Error('SlowDown', 503)), 'S3Throttled');
    assert.equal(code(s3Error('TooManyRequests', 429)), 'S3Throttled');
    assert.equal(code(s3Error('InternalError', 500)), 'S3Unavailable');
    assert.equal(code(s3Error('RequestTimeout', 400)), 'S3Unavailable');
    assert.equal(code(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), 'S3Unavailable');
    assert.equal(code(s3Error('AccessDenied', 403)), 'AccessDenied');
  });

  it('uses dead-letter reasons as they are', () => {
    const o = classifyS3Error(s3Error('NoSuchKey', 404), 's3://b/k');
    assert.equal(o.kind === 'deadLetter' && o.reason, 'ObjectNotFound');
  });
});
