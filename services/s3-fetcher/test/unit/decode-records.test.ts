import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BadRecord, type DecodedRecord, type DocumentFormat, decodeRecords } from '../../src/decode-records.ts';
import { DocumentError } from '../../src/document-error.ts';

async function* chunksOf(...parts: (string | Buffer)[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield Buffer.isBuffer(p) ? p : Buffer.from(p);
}

async function decode(parts: (string | Buffer)[], maxRecordBytes = 1_000_000) {
  const bad: BadRecord[] = [];
  const records: DecodedRecord[] = [];
  let format: DocumentFormat | undefined;
  for await (const batch of decodeRecords(chunksOf(...parts), {
    maxRecordBytes,
    onBadRecord: (b) => bad.push(b),
    onFormat: (f) => {
      format = f;
    },
  })) {
    records.push(...batch);
  }
  return { records, values: records.map((r) => r.value), bad, format };
}

async function rejectsWith(parts: (string | Buffer)[], reason: DocumentError['reason']) {
  await assert.rejects(decode(parts), (err: unknown) => {
    assert.ok(err instanceof DocumentError, `expected DocumentError, got ${err}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

const TRICKY_ARRAY = [
  { id: 1, text: 'brackets ] [ } { inside', nested: [[1, 2], { a: [] }] },
  { id: 2, text: 'escaped \\" quote and \\\\ backslash "', arr: ['"]', '\\'] },
  { id: 3, unicode: 'héllo ✓ 😀', empty: {} },
];

describe('decodeRecords: JSON array', () => {
  it('splits elements with nested arrays, brackets in strings and escaped quotes', async () => {
    const { values, format, bad } = await decode([JSON.stringify(TRICKY_ARRAY)]);
    assert.equal(format, 'json-array');
    assert.deepEqual(values, TRICKY_ARRAY);
    assert.deepEqual(bad, []);
  });

  it('gives the same records whatever the chunk boundary (every offset, pretty-printed too)', async () => {
    for (const doc of [JSON.stringify(TRICKY_ARRAY), JSON.stringify(TRICKY_ARRAY, null, 2)]) {
      const bytes = Buffer.from(doc);
      for (let cut = 0; cut <= bytes.length; cut++) {
        const { values } = await decode([bytes.subarray(0, cut), bytes.subarray(cut)]);
        assert.deepEqual(values, TRICKY_ARRAY, `cut at ${cut}`);
      }
      const oneByte = [...bytes].map((b) => Buffer.from([b]));
      assert.deepEqual((await decode(oneByte)).values, TRICKY_ARRAY);
    }
  });

  it('numbers elements by position and keeps single-line elements verbatim', async () => {
    const { records } = await decode(['[ {"a":1} ,\n{"b": 2}\n]']);
    assert.deepEqual(
      records.map((r) => [r.position, r.raw?.toString()]),
      [
        [1, '{"a":1}'],
        [2, '{"b": 2}'],
      ],
    );
  });

  it('counts non-object elements as bad and goes on', async () => {
    const { values, bad } = await decode(['[1, {"a":1}, "x", null, [2]]']);
    assert.deepEqual(values, [{ a: 1 }]);
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [
        [1, 'NotAnObject'],
        [3, 'NotAnObject'],
        [4, 'NotAnObject'],
        [5, 'NotAnObject'],
      ],
    );
  });

  it('accepts an empty array', async () => {
    assert.deepEqual((await decode(['  [ ]  '])).values, []);
  });

  it('refuses a truncated array', async () => {
    await rejectsWith(['[{"a":1},{"b":'], 'TruncatedDocument');
    await rejectsWith(['[{"a":1}'], 'TruncatedDocument');
  });

  it('skips an element over the record limit and reports it', async () => {
    const big = { pad: 'x'.repeat(500) };
    const { values, bad } = await decode([JSON.stringify([{ a: 1 }, big, { b: 2 }])], 100);
    assert.deepEqual(values, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [[2, 'RecordTooLarge']],
    );
  });
});

describe('decodeRecords: NDJSON', () => {
  it('reads lines with CRLF, skips blank lines, counts a bad line with its number', async () => {
    const doc = '{"a":1}\r\n\r\n{"b":2,"s":"x\\ny"}\r\nnot json\r\n{"c":3}';
    const { values, bad, format, records } = await decode([doc]);
    assert.equal(format, 'ndjson');
    assert.deepEqual(values, [{ a: 1 }, { b: 2, s: 'x\ny' }, { c: 3 }]);
    assert.deepEqual(
      records.map((r) => r.position),
      [1, 3, 5],
    );
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [[4, 'InvalidJson']],
    );
    assert.equal(records[0]?.raw?.toString(), '{"a":1}');
  });

  it('does not reuse the text of a line with invalid UTF-8', async () => {
    const line = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xff]), Buffer.from('"}\n{"b":1}\n')]);
    const { records } = await decode([line]);
    assert.equal(records[0]?.raw, undefined);
    assert.deepEqual(records[0]?.value, { a: 'x\ufffd' });
    assert.equal(records[1]?.raw?.toString(), '{"b":1}');
  });

  it('joins lines split across chunks at every offset', async () => {
    const lines = Array.from({ length: 5 }, (_, i) => ({ i, s: `line ${i} ✓` }));
    const bytes = Buffer.from(lines.map((l) => JSON.stringify(l)).join('\n'));
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual((await decode([bytes.subarray(0, cut), bytes.subarray(cut)])).values, lines, `cut at ${cut}`);
    }
  });

  it('skips an endless line without buffering it', async () => {
    const long = `{"x":"${'y'.repeat(300)}"}`;
    const { values, bad } = await decode(['{"a":1}\n', long.slice(0, 150), long.slice(150), '\n{"b":2}\n'], 100);
    assert.deepEqual(values, [{ a: 1 }, { b: 2 }]);
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [[2, 'RecordTooLarge']],
    );
  });

  it('refuses a document in which no line is readable', async () => {
    await rejectsWith(['{\n  "pretty": true\n}\n'], 'InvalidDocument');
  });
});

describe('decodeRecords: Records document', () => {
  it('streams the Records array', async () => {
    const records = [{ eventName: 'a', x: [1, { y: ']' }] }, { eventName: 'b' }];
    const doc = Buffer.from(` {\n "Records" : ${JSON.stringify(records, null, 1)} }\n`);
    for (let cut = 0; cut <= doc.length; cut++) {
      const r = await decode([doc.subarray(0, cut), doc.subarray(cut)]);
      assert.equal(r.format, 'records', `cut at ${cut}`);
      assert.deepEqual(r.values, records, `cut at ${cut}`);
    }
  });

  it('treats an object whose first key is not Records as NDJSON', async () => {
    const r = await decode(['{"Recordsx":1}\n{"Records":2}\n']);
    assert.equal(r.format, 'ndjson');
    assert.deepEqual(r.values, [{ Recordsx: 1 }, { Records: 2 }]);
  });

  it('refuses Records that is not an array, and a truncated one', async () => {
    await rejectsWith(['{"Records": 5}'], 'InvalidDocument');
    await rejectsWith(['{"Records": [{"a":1}'], 'TruncatedDocument');
  });
});

describe('decodeRecords: CSV', () => {
  it('reads RFC 4180 quoting, embedded commas/newlines/quotes and CRLF', async () => {
    const doc = 'id,"na,me",note\r\n1,"Smith, J","said ""hi""\r\nthen left"\r\n2,plain,\r\n\r\n3,x,"y"';
    const { values, records, format } = await decode([doc]);
    assert.equal(format, 'csv');
    assert.deepEqual(values, [
      { id: '1', 'na,me': 'Smith, J', note: 'said "hi"\r\nthen left' },
      { id: '2', 'na,me': 'plain', note: '' },
      { id: '3', 'na,me': 'x', note: 'y' },
    ]);
    assert.deepEqual(
      records.map((r) => r.position),
      [2, 4, 6],
    );
    assert.ok(records.every((r) => r.raw === undefined));
  });

  it('refuses a header wider than the column limit (a 100,000-column header would make huge records)', async () => {
    const header = Array.from({ length: 501 }, (_, i) => `c${i}`).join(',');
    await rejectsWith([`${header}\n${'1,'.repeat(500)}1\n`], 'InvalidDocument');
    const ok = Array.from({ length: 500 }, (_, i) => `c${i}`).join(',');
    assert.equal((await decode([`${ok}\n${'1,'.repeat(499)}1\n`])).values.length, 1);
  });

  it('keeps every column, __proto__ and other Object.prototype names included', async () => {
    const { values } = await decode(['id,__proto__,constructor,toString\n1,a,b,c\n']);
    const [row] = values;
    assert.deepEqual(Object.keys(row ?? {}), ['id', '__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(row), Object.prototype, 'the prototype is untouched');
    assert.equal(JSON.stringify(row), '{"id":"1","__proto__":"a","constructor":"b","toString":"c"}');
    // What enrichment does with it: the spread keeps the field as a field.
    assert.equal(JSON.stringify({ ...row, TimeGenerated: 't' }).includes('"__proto__":"a"'), true);
  });

  it('gives the same rows whatever the chunk boundary', async () => {
    const bytes = Buffer.from('a,b\n"x ""1""","y\n2"\n3,4\n');
    const expected = [
      { a: 'x "1"', b: 'y\n2' },
      { a: '3', b: '4' },
    ];
    for (let cut = 0; cut <= bytes.length; cut++) {
      assert.deepEqual((await decode([bytes.subarray(0, cut), bytes.subarray(cut)])).values, expected, `cut ${cut}`);
    }
  });

  it('counts a row with the wrong column count and goes on', async () => {
    const { values, bad } = await decode(['a,b\n1,2\n1,2,3\n4,5\n']);
    assert.deepEqual(values, [
      { a: '1', b: '2' },
      { a: '4', b: '5' },
    ]);
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [[3, 'ColumnCount']],
    );
  });

  it('strips a UTF-8 byte order mark', async () => {
    const { values } = await decode([Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a,b\n1,2\n')])]);
    assert.deepEqual(values, [{ a: '1', b: '2' }]);
  });
});

describe('decodeRecords: unreadable documents', () => {
  it('refuses empty and whitespace-only bodies', async () => {
    await rejectsWith([], 'InvalidDocument');
    await rejectsWith(['', '  \n\t '], 'InvalidDocument');
  });

  it('refuses text that is neither JSON nor CSV, and binary data', async () => {
    await rejectsWith(['this is not json\nnor csv\n'], 'InvalidDocument');
    await rejectsWith([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x2c, 0x41])], 'InvalidDocument');
    await rejectsWith(['<html><body>oops</body></html>'], 'InvalidDocument');
  });

  it('refuses an object that is neither NDJSON nor Records', async () => {
    await rejectsWith(['{"a":'], 'InvalidDocument');
  });
});

describe('decodeRecords: depth', () => {
  const deep = (levels: number) =>
    `{"TimeGenerated":"2024-01-01T00:00:00Z","d":${'['.repeat(levels)}${']'.repeat(levels)}}`;

  it('skips a record nested past the limit as TooDeep and keeps the rest, in every JSON format', async () => {
    const good = (i: number) => JSON.stringify({ i });
    const docs = [
      [`${good(1)}\n${deep(100_000)}\n${good(2)}\n`],
      [`[${good(1)},\n${deep(100_000)},\n${good(2)}]`],
      [`{"Records":[${good(1)},${deep(100_000)},${good(2)}]}`],
    ];
    for (const doc of docs) {
      const { values, bad } = await decode(doc, 10_000_000);
      assert.deepEqual(values, [{ i: 1 }, { i: 2 }]);
      assert.deepEqual(
        bad.map((b) => [b.position, b.reason]),
        [[2, 'TooDeep']],
      );
    }
  });

  it('counts only real nesting: brackets inside strings, and the limit itself, are fine', async () => {
    const text = JSON.stringify({ s: '[[[[{{{{'.repeat(50), a: JSON.parse(`${'['.repeat(99)}${']'.repeat(99)}`) });
    const { values, bad } = await decode([`${text}\n`]);
    assert.equal(values.length, 1);
    assert.deepEqual(bad, []);
    const atLimit = await decode([`${deep(99)}\n${deep(100)}\n`]);
    assert.equal(atLimit.values.length, 1, 'the object itself is one level: 1 + 99 is the limit');
    assert.deepEqual(
      atLimit.bad.map((b) => [b.position, b.reason]),
      [[2, 'TooDeep']],
    );
  });
});
