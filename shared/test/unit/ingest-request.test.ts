import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IngestRequestMessage } from '../../src/messages/ingest-request.ts';
import type { BlobStatusRow } from '../../src/stores/blob-status-model.ts';
import { ingestRequestFor, ingestRequestId } from '../../src/stores/ingest-request.ts';

describe('ingest requests', () => {
  const row = {
    container: 'data',
    blobName: 'a b+c#d.csv',
    etag: '"0x8DC"',
    size: 10,
    attempts: 2,
    status: 'queued',
    updatedAt: '2024-01-01T00:00:00.000Z',
    history: [],
  } satisfies BlobStatusRow;

  it('builds a valid message whose id depends only on blob version and attempt', () => {
    const m = IngestRequestMessage.parse(ingestRequestFor(row, 'blob-scanner', { scanId: 'scan-1' }));
    assert.equal(m.attempt, 2);
    assert.equal(m.blobName, 'a b+c#d.csv');
    assert.equal(m.scanId, 'scan-1');
    assert.equal(m.id, ingestRequestFor(row, 'blob-scanner', { scanId: 'scan-2', now: new Date(0) }).id);
    assert.notEqual(m.id, ingestRequestId('data', row.blobName, row.etag, 3));
    assert.notEqual(m.id, ingestRequestId('data', row.blobName, '"0x8DD"', 2));
  });

  it('gives a requeue by another stage the same id as the scan that claimed the attempt', () => {
    const requeue = IngestRequestMessage.parse(ingestRequestFor(row, 'completion-checker', { now: new Date(0) }));
    assert.equal(requeue.producer, 'completion-checker');
    assert.equal(requeue.time, '1970-01-01T00:00:00.000Z');
    assert.equal('scanId' in requeue, false);
    assert.equal(requeue.id, ingestRequestFor(row, 'blob-scanner', { scanId: 'scan-1' }).id);
  });
});
