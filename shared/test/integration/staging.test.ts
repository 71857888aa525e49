import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { readNdjsonBatch } from '../../src/stores/staged-ndjson.ts';
import {
  downloadStagedBlob,
  inflateJsonArrayBatch,
  isBlobNotFound,
  StagedBatchLayoutError,
  StagedBlobTooLarge,
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
  const texts = records.map((r) => JSON.stringify(r));
  const lengths = texts.map((t) => Buffer.byteLength(t));
  const array = Buffer.from(`[${texts.join(',')}]`);

  it('writes the request body as a plain gzip JSON array and reads back its stored bytes', async () => {
    const objectId = 'bucket/key with spaces+ü.json@"etag"';
    const name = 'Code42/2024/01/01/abc/000000.json.gz';
    const written = await writeStagedBatch(container, {
      blobName: name,
      objectId,
      batchIndex: 0,
      source: 'Code42',
      recordCount: records.length,
      body: array,
    });
    assert.equal(written.rawBytes, array.length);
    const stored = await downloadStagedBlob(container, name, { maxBytes: 10_000 });
    assert.equal(stored.length, written.compressedBytes);
    assert.deepEqual(JSON.parse(zlib.gunzipSync(stored).toString()), records, 'a gzip JSON array any tool can read');
    assert.deepEqual(await inflateJsonArrayBatch(stored, lengths, 10_000), array);
    const props = await container.getBlobClient(name).getProperties();
    assert.equal(props.contentEncoding, undefined, 'no Content-Encoding: readers get the gzip bytes');
    assert.equal(props.metadata?.objectid, encodeURIComponent(objectId));
    assert.equal(props.metadata?.format, 'json-array');
  });

  it('overwrites the same name with the same bytes on a rewrite (reprocessing after a crash)', async () => {
    const write = () =>
      writeStagedBatch(container, {
        blobName: 'x/1.json.gz',
        objectId: 'o',
        batchIndex: 1,
        source: 's',
        recordCount: 3,
        body: array,
      });
    const first = await write();
    await write();
    assert.equal(
      (await downloadStagedBlob(container, 'x/1.json.gz', { maxBytes: 10_000 })).length,
      first.compressedBytes,
    );
  });

  it('reports a missing blob as a 404 and refuses a blob larger than allowed before reading it', async () => {
    await assert.rejects(downloadStagedBlob(container, 'nope.json.gz', { maxBytes: 10 }), (err) => isBlobNotFound(err));
    await container.getBlockBlobClient('big.json.gz').uploadData(Buffer.alloc(50_000, 1));
    await assert.rejects(downloadStagedBlob(container, 'big.json.gz', { maxBytes: 10_000 }), StagedBlobTooLarge);
  });

  it('refuses record lengths that do not fall on record boundaries, and an array that inflates past the limit', async () => {
    const gz = zlib.gzipSync(array);
    await assert.rejects(
      inflateJsonArrayBatch(gz, [lengths[0]! + 1, lengths[1]! - 1, lengths[2]!], 10_000),
      StagedBatchLayoutError,
    );
    await assert.rejects(inflateJsonArrayBatch(gz, lengths.slice(1), 10_000), StagedBatchLayoutError);
    await assert.rejects(
      inflateJsonArrayBatch(zlib.gzipSync(Buffer.from(`[${texts.join(', ')}]`)), lengths, 10_000),
      StagedBatchLayoutError,
    );
    await assert.rejects(inflateJsonArrayBatch(gz, lengths, 10), RangeError);
  });

  it('still reads the v1 format (gzip NDJSON) as lines', async () => {
    const ndjson = Buffer.from(texts.map((t) => `${t}\n`).join(''));
    await container.getBlockBlobClient('v1/000000.ndjson.gz').uploadData(zlib.gzipSync(ndjson));
    const batch = await readNdjsonBatch(container, 'v1/000000.ndjson.gz', { maxRawBytes: 10_000 });
    assert.deepEqual(
      batch.lines.map((l) => l.toString()),
      texts,
    );
    assert.equal(batch.rawBytes, ndjson.length);
    await assert.rejects(readNdjsonBatch(container, 'v1/000000.ndjson.gz', { maxRawBytes: 10 }), RangeError);
  });
});
