import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Catalog } from '../../src/adx/catalog.ts';
import {
  decompress,
  IngestError,
  parseRows,
  readPath,
  splitConcatenatedJson,
  splitDelimited,
} from '../../src/adx/formats.ts';
import { parseCommand, splitKqlScript } from '../../src/adx/kql.ts';
import { blobNameOf } from '../../src/adx/worker.ts';

describe('ADX stand-in: KQL commands', () => {
  it('parses table and mapping commands in the forms users run', () => {
    assert.deepEqual(parseCommand('.create-merge table T (A: string, B: long, C: double)'), {
      kind: 'create-table',
      table: 'T',
      merge: true,
      columns: [
        { name: 'A', type: 'string' },
        { name: 'B', type: 'long' },
        { name: 'C', type: 'real' },
      ],
    });
    const m = parseCommand(
      '.create-or-alter table T ingestion json mapping "m" ```[{"Column":"A","Properties":{"Path":"$[\'a b\']"}}]```',
    );
    assert.deepEqual(m, {
      kind: 'create-mapping',
      table: 'T',
      mappingKind: 'json',
      name: 'm',
      columns: [{ column: 'A', path: "$['a b']" }],
    });
    assert.equal(parseCommand('.get ingestion resources').kind, 'get-ingestion-resources');
    assert.throws(() => parseCommand('.drop database x'), /unsupported command/);
    assert.throws(() => parseCommand('.create table T ingestion csv mapping \'m\' \'[{"column":"A"}]\''), /Ordinal/);
  });

  it('splits a script on blank lines and drops comments', () => {
    const script =
      '// c\n.create table T (A: string)\n\n// d\n.create table T ingestion csv mapping \'m\'\n\'[{"column":"A","Properties":{"Ordinal":"0"}}]\'\n';
    const commands = splitKqlScript(script);
    assert.equal(commands.length, 2);
    const catalog = new Catalog();
    for (const c of commands) catalog.apply(parseCommand(c));
    assert.deepEqual(catalog.mapping('T', 'csv', 'm'), [{ column: 'A', ordinal: 0 }]);
    assert.throws(
      () =>
        catalog.apply(
          parseCommand('.create table T ingestion csv mapping \'x\' \'[{"column":"Z","Properties":{"Ordinal":"0"}}]\''),
        ),
      /lacks: Z/,
    );
  });
});

describe('ADX stand-in: formats', () => {
  const columns = [
    { name: 'A', type: 'string' as const },
    { name: 'N', type: 'int' as const },
  ];

  it('reads RFC 4180 CSV with quotes, separators and newlines in fields', () => {
    assert.deepEqual(splitDelimited('a,"b,1","c ""q""\nx"\r\n\n1,2,3', ','), [
      ['a', 'b,1', 'c "q"\nx'],
      ['1', '2', '3'],
    ]);
    assert.throws(() => splitDelimited('"open', ','), IngestError);
  });

  it('maps CSV by ordinal, converts types, honours ignoreFirstRecord only when asked', () => {
    const rows = parseRows('A,N\nx,1\ny,oops\n', {
      format: 'csv',
      columns,
      mapping: undefined,
      ignoreFirstRecord: true,
    });
    assert.deepEqual(rows, [
      { A: 'x', N: 1 },
      { A: 'y', N: null },
    ]);
    assert.equal(
      parseRows('A,N\nx,1\n', { format: 'csv', columns, mapping: undefined, ignoreFirstRecord: false }).length,
      2,
    );
    assert.throws(
      () => parseRows('x,1\ny\n', { format: 'csv', columns, mapping: undefined, ignoreFirstRecord: false }),
      (e: unknown) => e instanceof IngestError && e.code === 'Stream_WrongNumberOfFields' && e.permanent,
    );
  });

  it('json drops malformed lines; multijson takes concatenated or array documents and rejects broken ones', () => {
    const opts = { columns, mapping: [{ column: 'A', path: '$.a.b' }], ignoreFirstRecord: false };
    assert.deepEqual(parseRows('{"a":{"b":"x"}}\nnot json\n', { ...opts, format: 'json' }), [{ A: 'x', N: null }]);
    assert.equal(splitConcatenatedJson('{"a":"}{"}\n{\n "b": 2\n}').length, 2);
    assert.equal(splitConcatenatedJson('[{"a":1},{"a":2}]').length, 2);
    assert.throws(() => parseRows('{"a":1', { ...opts, format: 'multijson' }), /unterminated|malformed/);
    assert.throws(
      () => parseRows('\n', { ...opts, format: 'json' }),
      (e: unknown) => (e as IngestError).code === 'BadRequest_NoRecordsOrWrongFormat',
    );
    assert.deepEqual(readPath({ x: [{ 'a b': 5 }] }, "$.x[0]['a b']"), 5);
  });

  it('gunzips by name or magic bytes with a bound', () => {
    const gz = gzipSync('hello');
    assert.equal(decompress(gz, 'x.bin', 100).toString(), 'hello');
    assert.throws(
      () => decompress(gzipSync('x'.repeat(1000)), 'a.gz', 10),
      (e: unknown) => (e as IngestError).code === 'Stream_InputStreamTooLarge',
    );
    assert.throws(
      () => decompress(Buffer.from('plain'), 'a.gz', 10),
      (e: unknown) => (e as IngestError).code === 'BadRequest_InvalidBlob',
    );
  });

  it('reads the blob name from path-style and host-style URLs', () => {
    assert.equal(blobNameOf('http://127.0.0.1:1/devstoreaccount1/data/a%20b%2Bc%23d.csv?sig=x'), 'a b+c#d.csv');
    assert.equal(blobNameOf('https://acct.blob.core.windows.net/data/dir/x.csv;managed_identity=system'), 'dir/x.csv');
  });
});
