import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeRecordLengths, encodeRecordLengths, jsonArrayBytesOf } from '../../src/stores/record-lengths.ts';
import { toJsonArray } from '../../src/stores/staged-ndjson.ts';
import { stagedBatchBlobName, stagedBatchId } from '../../src/stores/staging.ts';

describe('staging names and ids', () => {
  const objectId = 'code42-logs/incydr/a b+ü.json.gz@v1';

  it('derives the same batch id and blob name from the same object and index, different ones otherwise', () => {
    const date = new Date('2024-03-04T23:59:59Z');
    assert.equal(stagedBatchId(objectId, 3), stagedBatchId(objectId, 3));
    assert.notEqual(stagedBatchId(objectId, 3), stagedBatchId(objectId, 4));
    assert.notEqual(stagedBatchId(objectId, 3), stagedBatchId(`${objectId}x`, 3));
    assert.match(stagedBatchId(objectId, 0), /^[0-9a-f]{32}$/);
    const name = stagedBatchBlobName({ source: 'Code42', objectId, batchIndex: 12, date });
    assert.equal(name, stagedBatchBlobName({ source: 'Code42', objectId, batchIndex: 12, date }));
    assert.match(name, /^Code42\/2024\/03\/04\/[0-9a-f]{16}\/000012\.json\.gz$/);
  });

  it('keeps blob names safe whatever the source', () => {
    const name = stagedBatchBlobName({ source: '../we ird/ü', objectId, batchIndex: 0, date: new Date(0) });
    assert.match(name, /^___we_ird__\/1970\/01\/01\//);
    // `..` would be resolved away by the Blob SDK's URL (`staging/../x` is container `x`).
    for (const source of ['..', '.', '../..']) {
      const n = stagedBatchBlobName({ source, objectId, batchIndex: 0, date: new Date(0) });
      assert.ok(!n.split('/').some((seg) => seg === '..' || seg === '.'), n);
    }
  });

  it('joins v1 NDJSON lines into the JSON array the Logs Ingestion API takes, with its size known up front', () => {
    const lines = [Buffer.from('{"a":1}'), Buffer.from('{"b":"ü"}')];
    const array = toJsonArray(lines);
    assert.deepEqual(JSON.parse(array.toString()), [{ a: 1 }, { b: 'ü' }]);
    assert.equal(array.length, jsonArrayBytesOf(lines.map((l) => l.length)));
    assert.equal(toJsonArray([]).toString(), '[]');
    assert.equal(jsonArrayBytesOf([]), 2);
  });
});

describe('record lengths on the staged-batches message', () => {
  it('round-trips lengths of every size through the compact encoding', () => {
    const lengths = [0, 1, 127, 128, 1_500, 16_383, 16_384, 999_998, 2 ** 32 - 1];
    const text = encodeRecordLengths(lengths);
    assert.match(text, /^[A-Za-z0-9+/]*={0,2}$/);
    assert.deepEqual(decodeRecordLengths(text, lengths.length), lengths);
    assert.equal(
      encodeRecordLengths(Array(5_000).fill(2_000)).length,
      Math.ceil((5_000 * 2) / 3) * 4,
      'two bytes each',
    );
  });

  it('refuses a truncated list, an overlong varint and more lengths than announced', () => {
    const text = encodeRecordLengths([300, 5]);
    assert.equal(decodeRecordLengths(Buffer.from([0xac]).toString('base64'), 10), undefined);
    assert.equal(
      decodeRecordLengths(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).toString('base64'), 10),
      undefined,
    );
    assert.equal(decodeRecordLengths(text, 1), undefined);
    assert.deepEqual(decodeRecordLengths('', 0), []);
  });
});
