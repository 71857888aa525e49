import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobsQuery, MAX_PAGE_SIZE, parseQuery } from '../../src/http/request-input.ts';
import { isScanId, newScanId } from '../../src/scan-records.ts';

describe('scan ids', () => {
  it('are sortable by time and recognisable', () => {
    const a = newScanId(new Date('2024-05-01T10:00:00Z'));
    const b = newScanId(new Date('2024-05-01T10:00:01Z'));
    assert.ok(a < b);
    assert.ok(isScanId(a));
    assert.equal(isScanId('scan-../../x'), false);
  });
});

describe('GET /blobs query', () => {
  const q = (s: string) => parseQuery(BlobsQuery, new URLSearchParams(s));

  it('defaults, caps the page size and drops empty filters', () => {
    assert.deepEqual(q(''), { pageSize: 50 });
    assert.equal(q('pageSize=9999').pageSize, MAX_PAGE_SIZE);
    assert.deepEqual(q('status=&prefix=&pageSize=10'), { pageSize: 10 });
  });

  it('accepts only tokens of the Tables SDK shape', () => {
    const token = Buffer.from(JSON.stringify({ nextPartitionKey: 'data', nextRowKey: 'x' })).toString('base64');
    assert.equal(q(`continuationToken=${encodeURIComponent(token)}`).continuationToken, token);
    assert.throws(() => q(`continuationToken=${Buffer.from('[1]').toString('base64')}`), /invalid query/);
  });

  it('refuses control characters and unknown statuses', () => {
    assert.throws(() => q('prefix=a%00b'), /invalid query/);
    assert.throws(() => q('status=done'), /invalid query/);
  });
});
