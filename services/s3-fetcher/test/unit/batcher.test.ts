import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Batch, Batcher } from '../../src/batcher.ts';
import type { SerializedRecord } from '../../src/enrich.ts';

function rec(text: string): SerializedRecord {
  const head = Buffer.from(text);
  return { head, tail: undefined, bytes: head.length };
}

function recWithTail(head: string, tail: string): SerializedRecord {
  return { head: Buffer.from(head), tail, bytes: Buffer.byteLength(head) + Buffer.byteLength(tail) };
}

function run(texts: string[], maxBytes: number, maxRecords: number): Batch[] {
  const b = new Batcher({ maxBytes, maxRecords });
  const out: Batch[] = [];
  for (const t of texts) {
    const closed = b.add(rec(t));
    if (closed) out.push(closed);
  }
  const last = b.flush();
  if (last) out.push(last);
  return out;
}

function asArray(batch: Batch): string {
  return batch.body.toString();
}

/** The records cut out of the body at the lengths the batch reports (what la-uploader does to split). */
function cut(batch: Batch): string[] {
  const out: string[] = [];
  let at = 1;
  for (const length of batch.recordLengths) {
    out.push(batch.body.subarray(at, at + length).toString());
    at += length + 1;
  }
  return out;
}

describe('Batcher', () => {
  it('keeps every batch, as a JSON array, within the byte limit and fills it', () => {
    const texts = Array.from({ length: 100 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 17) }));
    const batches = run(texts, 200, 1000);
    assert.ok(batches.length > 5);
    for (const [n, batch] of batches.entries()) {
      const array = asArray(batch);
      assert.ok(batch.body.length <= 200, `batch ${n} has ${batch.body.length} bytes`);
      assert.deepEqual(
        cut(batch),
        JSON.parse(array).map((r: unknown) => JSON.stringify(r)),
      );
      assert.equal(batch.recordLengths.length, batch.recordCount);
      assert.equal(batch.index, n);
    }
    // Every record once, in order.
    assert.deepEqual(
      batches.flatMap((b) => JSON.parse(asArray(b))),
      texts.map((t) => JSON.parse(t)),
    );
  });

  it('allows a batch of exactly the limit', () => {
    const t = JSON.stringify({ p: 'x'.repeat(10) }); // 18 bytes
    const batches = run([t, t, t], 2 + 18 + 1 + 18, 1000);
    assert.deepEqual(
      batches.map((b) => b.recordCount),
      [2, 1],
    );
    assert.equal(batches[0]?.body.length, 39);
  });

  it('closes batches at the record count', () => {
    const batches = run(
      Array.from({ length: 10 }, (_, i) => `{"i":${i}}`),
      1_000_000,
      4,
    );
    assert.deepEqual(
      batches.map((b) => b.recordCount),
      [4, 4, 2],
    );
  });

  it('produces no empty batch when the count falls on a boundary', () => {
    const batches = run(
      Array.from({ length: 8 }, (_, i) => `{"i":${i}}`),
      1_000_000,
      4,
    );
    assert.deepEqual(
      batches.map((b) => b.recordCount),
      [4, 4],
    );
    assert.equal(new Batcher({ maxBytes: 100, maxRecords: 1 }).flush(), undefined);
  });

  it('writes head and UTF-8 tail of each record as one JSON array, with byte lengths, and reuses released buffers', () => {
    const b = new Batcher({ maxBytes: 100, maxRecords: 2 });
    assert.equal(b.add(recWithTail('{"a":1', ',"k":"ü✓"}')), undefined);
    b.add(rec('{"b":2}'));
    const first = b.add(rec('{"c":3}'));
    assert.equal(first?.body.toString(), '[{"a":1,"k":"ü✓"},{"b":2}]');
    assert.deepEqual(first?.recordLengths, [Buffer.byteLength('{"a":1,"k":"ü✓"}'), 7]);
    b.release(first!);
    b.add(rec('{"d":4}'));
    const second = b.add(rec('{"e":5}'));
    assert.equal(second?.body.toString(), '[{"c":3},{"d":4}]');
    assert.equal(b.flush()?.buffer, first?.buffer, 'the released buffer holds the next batch');
  });

  it('says which records can never fit', () => {
    const b = new Batcher({ maxBytes: 20, maxRecords: 10 });
    assert.equal(b.tooLarge(rec('x'.repeat(18))), false);
    assert.equal(b.tooLarge(rec('x'.repeat(19))), true);
  });
});
