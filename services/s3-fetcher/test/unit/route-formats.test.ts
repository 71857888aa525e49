import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouteFormat } from '@logferry/shared/routes/index';
import { type BadRecord, type DocumentFormat, decodeRecords } from '../../src/decode-records.ts';
import { DocumentError } from '../../src/document-error.ts';
import { timeReader } from '../../src/enrich.ts';

async function* chunksOf(parts: readonly Buffer[]): AsyncGenerator<Buffer> {
  for (const p of parts) yield p;
}

async function decode(text: string | Buffer, format: RouteFormat, options: { chunk?: number; max?: number } = {}) {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const size = options.chunk ?? bytes.length;
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) parts.push(bytes.subarray(i, i + size));
  const bad: BadRecord[] = [];
  const values: Record<string, unknown>[] = [];
  const positions: number[] = [];
  let seen: DocumentFormat | undefined;
  for await (const batch of decodeRecords(chunksOf(parts), {
    maxRecordBytes: options.max ?? 1_000_000,
    onBadRecord: (b) => bad.push(b),
    onFormat: (f) => {
      seen = f;
    },
    format,
  })) {
    for (const r of batch) {
      values.push(r.value);
      positions.push(r.position);
    }
  }
  return { values, positions, bad, format: seen };
}

const FLOW_LOG = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  '2 123456789012 eni-0a1b2c3d4e5f60001 10.0.1.5 198.51.100.7 49152 443 6 10 8400 1700000000 1700000060 ACCEPT OK',
  '2 123456789012 eni-0a1b2c3d4e5f60001 - - - - - - - 1700000000 1700000060 - NODATA',
  '',
  '2 123456789012 eni-0a1b2c3d4e5f60002 10.0.1.6 198.51.100.8 53000 22 6 3 180 1700000100 1700000160 REJECT OK',
].join('\n');

describe('space-delimited text (VPC flow logs)', () => {
  it('reads the header, one record per line, "-" as null, with line numbers', async () => {
    const { values, positions, bad, format } = await decode(FLOW_LOG, 'space-delimited');
    assert.equal(format, 'space-delimited');
    assert.deepEqual(bad, []);
    assert.equal(values.length, 3);
    assert.deepEqual(values[0], {
      version: '2',
      'account-id': '123456789012',
      'interface-id': 'eni-0a1b2c3d4e5f60001',
      srcaddr: '10.0.1.5',
      dstaddr: '198.51.100.7',
      srcport: '49152',
      dstport: '443',
      protocol: '6',
      packets: '10',
      bytes: '8400',
      start: '1700000000',
      end: '1700000060',
      action: 'ACCEPT',
      'log-status': 'OK',
    });
    assert.equal(values[1]!.srcaddr, null);
    assert.equal(values[1]!['log-status'], 'NODATA');
    assert.deepEqual(positions, [2, 3, 5]);
  });

  it('gives the same records whatever the chunk size, CRLF and runs of blanks included', async () => {
    const whole = await decode(FLOW_LOG, 'space-delimited');
    const messy = FLOW_LOG.replaceAll('\n', '\r\n').replaceAll(' 123456789012 ', '   123456789012\t');
    for (const chunk of [1, 7, 64]) {
      assert.deepEqual((await decode(messy, 'space-delimited', { chunk })).values, whole.values, `chunk ${chunk}`);
    }
  });

  it('skips a row with another column count and an over-long line, and keeps the rest', async () => {
    const text = `a b c\n1 2 3\n1 2\n${'x '.repeat(100)}\n4 5 6\n`;
    const { values, bad } = await decode(text, 'space-delimited', { max: 64 });
    assert.deepEqual(values, [
      { a: '1', b: '2', c: '3' },
      { a: '4', b: '5', c: '6' },
    ]);
    assert.deepEqual(
      bad.map((b) => [b.position, b.reason]),
      [
        [3, 'ColumnCount'],
        [4, 'RecordTooLarge'],
      ],
    );
  });

  it('refuses a document without a usable header', async () => {
    for (const text of ['{"a":1}\n{"b":2}\n', 'one\n1\n', 'a a\n1 2\n', Buffer.from([0x61, 0x20, 0x00, 0x62])]) {
      await assert.rejects(
        decode(text, 'space-delimited'),
        (e: unknown) => e instanceof DocumentError && e.reason === 'InvalidDocument',
      );
    }
  });
});

describe('a route’s format is taken as given', () => {
  it('ndjson: a line that is not JSON is a bad line, even when the document would sniff as CSV', async () => {
    const { values, bad, format } = await decode('a,b\n{"x":1}\n', 'ndjson');
    assert.equal(format, 'ndjson');
    assert.deepEqual(values, [{ x: 1 }]);
    assert.deepEqual(
      bad.map((b) => b.reason),
      ['InvalidJson'],
    );
  });

  it('csv: a first row starting with { is a header, not JSON', async () => {
    const { values, format } = await decode('{id,name\n1,ana\n', 'csv');
    assert.equal(format, 'csv');
    assert.deepEqual(values, [{ '{id': '1', name: 'ana' }]);
  });

  it('json: an array or a Records document; NDJSON is refused whole', async () => {
    assert.deepEqual((await decode('[{"a":1},{"a":2}]', 'json')).values, [{ a: 1 }, { a: 2 }]);
    assert.deepEqual((await decode('{"Records":[{"a":1}]}', 'json', { chunk: 3 })).values, [{ a: 1 }]);
    await assert.rejects(
      decode('{"a":1}\n{"a":2}\n', 'json'),
      (e: unknown) => e instanceof DocumentError && e.reason === 'InvalidDocument' && /route says json/.test(e.message),
    );
  });
});

describe('time formats', () => {
  it('reads each stated unit at its word, and nothing else', () => {
    const seconds = timeReader('epoch-seconds');
    assert.equal(seconds('1700000000'), '2023-11-14T22:13:20.000Z');
    assert.equal(seconds(1700000000.5), '2023-11-14T22:13:20.500Z');
    assert.equal(seconds('2023-11-14T22:13:20Z'), undefined);
    const millis = timeReader('epoch-millis');
    assert.equal(millis(1700000000500), '2023-11-14T22:13:20.500Z');
    assert.equal(millis('17'), '1970-01-01T00:00:00.017Z', 'no guessing the unit from the size');
    const iso = timeReader('iso8601');
    assert.equal(iso('2023-11-14T23:13:20+01:00'), '2023-11-14T22:13:20.000Z');
    assert.equal(iso('1700000000'), undefined);
    assert.equal(iso(1700000000), undefined);
    const auto = timeReader('auto');
    assert.equal(auto('1700000000'), '2023-11-14T22:13:20.000Z');
    assert.equal(auto(1700000000500), '2023-11-14T22:13:20.500Z');
  });
});
