import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logging/logger.ts';
import type { StagedBatchMessage } from '../../src/messages/index.ts';
import {
  blobNameProblem,
  checkBlobReference,
  checkIngestRequestReference,
  checkStagedBatchReference,
  FORBIDDEN_REFERENCE,
  guardReferences,
} from '../../src/messages/references.ts';
import { sourceNameFrom } from '../../src/messages/source-name.ts';
import type { Delivery } from '../../src/transport/port.ts';

const batch = (over: Partial<StagedBatchMessage>): StagedBatchMessage =>
  ({
    type: 'staged-batch',
    schemaVersion: 1,
    id: 'b1',
    producer: 's3-fetcher',
    time: new Date().toISOString(),
    objectId: 'bucket/key@v1',
    batchIndex: 0,
    lastBatch: true,
    blobContainer: 'staging',
    blobName: 'Code42/2024/01/02/0123456789abcdef/000000.ndjson.gz',
    recordCount: 1,
    rawBytes: 10,
    compressedBytes: 10,
    source: 'Code42',
    ...over,
  }) as StagedBatchMessage;

describe('message references', () => {
  it('accepts ordinary relative names, spaces, unicode and dots inside a segment', () => {
    for (const name of ['a.csv', 'folder/a b+c#d.json', 'Json-ü/x..y.json', 'a/b/c.tar.gz', '%41.csv']) {
      assert.equal(blobNameProblem(name), undefined, name);
    }
  });

  it('refuses traversal, absolute, URL and control-character forms, plain or percent-encoded', () => {
    for (const name of [
      '../victim/x',
      'a/../../victim/x',
      'a/./b',
      '..',
      'a\\..\\b',
      '%2e%2e/victim/x',
      'a/%2E%2E%2Fb',
      '/victim/x',
      '\\victim',
      'https://evil.example/x',
      'C:\\x',
      'a\u0000b',
      'line\nbreak',
      'a\u0085b',
      '',
      'x'.repeat(1025),
    ]) {
      assert.notEqual(blobNameProblem(name), undefined, JSON.stringify(name));
    }
  });

  it('allows only the configured container, and the prefix when one is given', () => {
    assert.deepEqual(checkBlobReference('data', 'x.csv', { containers: ['data'] }), { ok: true });
    const other = checkBlobReference('victim', 'x.csv', { containers: ['data'] });
    assert.equal(other.ok, false);
    assert.match(!other.ok ? other.problem : '', /container "victim" is not the configured one \(data\)/);
    assert.equal(checkBlobReference('data', 'b/x', { containers: ['data'], prefix: 'a/' }).ok, false);
  });

  it('holds a staged batch to the staging container and its own source folder', () => {
    assert.deepEqual(checkStagedBatchReference(batch({}), 'staging'), { ok: true });
    assert.equal(checkStagedBatchReference(batch({ blobContainer: 'victim' }), 'staging').ok, false);
    assert.equal(checkStagedBatchReference(batch({ blobName: 'Other/2024/x.ndjson.gz' }), 'staging').ok, false);
    assert.equal(checkStagedBatchReference(batch({ blobName: 'Code42/../../victim/x' }), 'staging').ok, false);
    const request = { container: 'data', blobName: 'Json-1.json' } as Parameters<typeof checkIngestRequestReference>[0];
    assert.equal(checkIngestRequestReference(request, 'data').ok, true);
    assert.equal(checkIngestRequestReference({ ...request, container: 'staging' }, 'data').ok, false);
  });

  it('dead-letters a forbidden reference before the handler runs, counted, with control characters escaped', async () => {
    let ran = 0;
    const counted: string[] = [];
    const handler = guardReferences<'staged-batches'>(
      async () => {
        ran++;
        return { kind: 'success' };
      },
      {
        check: (m) => checkStagedBatchReference(m, 'staging'),
        describe: (m) => `${m.blobContainer}/${m.blobName}`,
        logger: createLogger('test', { level: 'silent' }),
        onForbidden: (r) => counted.push(r),
      },
    );
    const delivery = (body: StagedBatchMessage) => ({ body, messageId: 'm' }) as Delivery<StagedBatchMessage>;
    const out = await handler(delivery(batch({ blobContainer: 'victim', blobName: 'Code42/x\n"forged":1' })));
    assert.equal(out.kind, 'deadLetter');
    assert.equal(out.kind === 'deadLetter' && out.reason, FORBIDDEN_REFERENCE);
    assert.ok(out.kind === 'deadLetter' && !out.description.includes('\n'));
    assert.equal(ran, 0);
    assert.deepEqual(counted, [FORBIDDEN_REFERENCE]);
    assert.deepEqual(await handler(delivery(batch({}))), { kind: 'success' });
    assert.equal(ran, 1);
  });

  it('derives source names in a fixed alphabet, refusing what cannot be one', () => {
    assert.deepEqual(sourceNameFrom('incydr'), { ok: true, source: 'incydr' });
    assert.deepEqual(sourceNameFrom('a b.c'), { ok: true, source: 'a_b_c' });
    for (const raw of ['..', '.', '', '_x', '-x', 'ü', 'x'.repeat(65)])
      assert.equal(sourceNameFrom(raw).ok, false, raw);
  });
});
