import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonArrayBytes, stagedBatchBlobName, stagedBatchId, toJsonArray } from '../../src/stores/staging.ts';

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
    assert.match(name, /^Code42\/2024\/03\/04\/[0-9a-f]{16}\/000012\.ndjson\.gz$/);
  });

  it('keeps blob names safe whatever the source', () => {
    const name = stagedBatchBlobName({ source: '../we ird/ü', objectId, batchIndex: 0, date: new Date(0) });
    assert.match(name, /^\.\._we_ird__\/1970\/01\/01\//);
  });

  it('joins NDJSON lines into the JSON array the Logs Ingestion API takes, with its size known up front', () => {
    const lines = [Buffer.from('{"a":1}'), Buffer.from('{"b":"ü"}')];
    const array = toJsonArray(lines);
    assert.deepEqual(JSON.parse(array.toString()), [{ a: 1 }, { b: 'ü' }]);
    assert.equal(array.length, jsonArrayBytes(lines));
    assert.equal(toJsonArray([]).toString(), '[]');
    assert.equal(jsonArrayBytes([]), 2);
  });
});
