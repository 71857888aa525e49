import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createS3AllowList } from '../../src/auth/aws-allow-list.ts';

describe('S3 allow-list', () => {
  it('allows only the configured buckets', () => {
    const list = createS3AllowList({ S3_ALLOWED_BUCKETS: ['logs-a', 'logs-b'], S3_ALLOWED_PREFIXES: [] });
    assert.deepEqual(list.check('logs-a', 'any/key'), { allowed: true });
    assert.deepEqual(list.check('logs-b', 'x'), { allowed: true });
    assert.deepEqual(list.check('other', 'x'), { allowed: false, reason: 'bucket-not-allowed' });
    assert.deepEqual(list.check('LOGS-A', 'x'), { allowed: false, reason: 'bucket-not-allowed' });
  });

  it('narrows keys to the configured prefixes', () => {
    const list = createS3AllowList({ S3_ALLOWED_BUCKETS: ['logs-a'], S3_ALLOWED_PREFIXES: ['incydr/', 'audit/'] });
    assert.deepEqual(list.check('logs-a', 'incydr/2024/x.gz'), { allowed: true });
    assert.deepEqual(list.check('logs-a', 'audit/y'), { allowed: true });
    assert.deepEqual(list.check('logs-a', 'secrets/z'), { allowed: false, reason: 'prefix-not-allowed' });
    assert.deepEqual(list.check('other', 'incydr/x'), { allowed: false, reason: 'bucket-not-allowed' });
  });

  it('fails closed with no buckets', () => {
    const list = createS3AllowList({ S3_ALLOWED_BUCKETS: [], S3_ALLOWED_PREFIXES: [] });
    assert.equal(list.check('any-bucket', 'k').allowed, false);
  });
});
