import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import {
  isBlobNotFound,
  openStagedBatch,
  openStagedBatchLines,
  readStagedBatch,
  writeStagedBatch,
} from '../../src/stores/staging.ts';
import { type AzuriteHandle, startAzurite } from '../../src/testing/index.ts';

describe('staged batch blobs on Azurite', () => {
  let azurite: AzuriteHandle;
  let container: ContainerClient;
  before(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    await container.create();
  });
  after(() => azurite.stop());

  const records = [{ a: 1, s: 'ü "q"' }, { b: [1, 2] }, { c: null }];
  const ndjson = Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));

  it('writes gzip NDJSON with metadata and reads it back as lines and records', async () => {
    const objectId = 'bucket/key with spaces+ü.json@"etag"';
    const written = await writeStagedBatch(container, {
      blobName: 'Code42/2024/01/01/abc/000000.ndjson.gz',
      objectId,
      batchIndex: 0,
      source: 'Code42',
      recordCount: records.length,
      ndjson: [ndjson.subarray(0, 10), ndjson.subarray(10)],
    });
    assert.equal(written.rawBytes, ndjson.length);

    const raw = await container.getBlobClient('Code42/2024/01/01/abc/000000.ndjson.gz').downloadToBuffer();
    assert.equal(raw.length, written.compressedBytes);
    assert.deepEqual(zlib.gunzipSync(raw), ndjson, 'a plain gzip file any tool can read');

    const batch = await readStagedBatch(container, 'Code42/2024/01/01/abc/000000.ndjson.gz');
    assert.deepEqual(batch.metadata, {
      objectId,
      batchIndex: 0,
      recordCount: 3,
      rawBytes: ndjson.length,
      source: 'Code42',
    });
    assert.deepEqual(
      batch.lines.map((l) => JSON.parse(l.toString())),
      records,
    );
    const lines: string[] = [];
    for await (const l of openStagedBatchLines(container, 'Code42/2024/01/01/abc/000000.ndjson.gz'))
      lines.push(l.toString());
    assert.deepEqual(
      lines,
      records.map((r) => JSON.stringify(r)),
    );
    const parsed: unknown[] = [];
    for await (const r of openStagedBatch(container, 'Code42/2024/01/01/abc/000000.ndjson.gz')) parsed.push(r);
    assert.deepEqual(parsed, records);
  });

  it('overwrites the same name on a rewrite (reprocessing after a crash)', async () => {
    const write = () =>
      writeStagedBatch(container, {
        blobName: 'x/1.ndjson.gz',
        objectId: 'o',
        batchIndex: 1,
        source: 's',
        recordCount: 3,
        ndjson,
      });
    await write();
    await write();
    assert.equal((await readStagedBatch(container, 'x/1.ndjson.gz')).lines.length, 3);
  });

  it('reports a missing blob as a 404 and refuses a blob that inflates past the limit', async () => {
    await assert.rejects(readStagedBatch(container, 'nope.ndjson.gz'), (err) => isBlobNotFound(err));
    await writeStagedBatch(container, {
      blobName: 'big.ndjson.gz',
      objectId: 'o',
      batchIndex: 0,
      source: 's',
      recordCount: 1,
      ndjson: Buffer.alloc(100_000, 0x20),
    });
    await assert.rejects(readStagedBatch(container, 'big.ndjson.gz', { maxRawBytes: 10_000 }), RangeError);
  });
});
