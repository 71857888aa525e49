import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TimeFormat } from '@logferry/shared/routes/index';
import { code42Event } from '../../../../bench/src/fetcher-corpus.ts';
import { type BadRecord, type DecodedRecord, decodeRecords } from '../../src/decode-records.ts';
import { DocumentError } from '../../src/document-error.ts';
import { createEnricher, lineScanPlan } from '../../src/enrich.ts';
import { createLineScanner } from '../../src/scan-json-line.ts';

interface Route {
  readonly timeField: string | undefined;
  readonly timeFormat?: TimeFormat;
}

/** What s3-fetcher makes of a document: the enriched lines, the bad records, the fallbacks, or the refusal. */
async function outcome(document: Buffer, route: Route, scanned: boolean) {
  const bad: BadRecord[] = [];
  const enricher = createEnricher({
    ...route,
    bucket: 'b',
    key: 'k',
    versionId: undefined,
    fallbackTime: '2020-01-01T00:00:00.000Z',
  });
  const lines: string[] = [];
  let fast = 0;
  try {
    for await (const batch of decodeRecords(one(document), {
      maxRecordBytes: 1_000_000,
      onBadRecord: (b) => bad.push(b),
      ...(scanned ? { scan: lineScanPlan(route.timeField) } : {}),
    })) {
      for (const record of batch as DecodedRecord[]) {
        if (record.field) fast++;
        const s = enricher.serialize(record);
        // Byte for byte (latin1): invalid UTF-8 written verbatim must not look like its replacement characters.
        lines.push(Buffer.concat([s.head, Buffer.from(s.tail ?? '')]).toString('latin1'));
      }
    }
  } catch (err) {
    if (!(err instanceof DocumentError)) throw err;
    return { refused: err.message, bad, fast };
  }
  return { lines, bad, timeFallbacks: enricher.timeFallbacks, fast };
}

async function* one(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

const GOOD = JSON.stringify(code42Event(0));
const hostile: (string | Buffer)[] = [
  '{"@timestamp":"2024-01-01T00:00:00Z","a":1', // truncated
  '{"@timestamp":"2024-01-01T00:00:00Z","a":"unterminated',
  '{"@timestamp":"2024-01-01T00:00:00Z"} trailing',
  '{"@timestamp":"2024-01-01T00:00:00Z"}}',
  '{"a":1,}',
  '{,"a":1}',
  '{"a" 1}',
  '{"a":1 "b":2}',
  '{"a":[1,]}',
  '{"a":[1 2]}',
  "{'a':1}",
  '{a:1}',
  '{"a":"\\ud800","@timestamp":"2024-01-01T00:00:00Z"}', // lone surrogate escape: valid JSON
  '{"a":"\\udc00\\ud800"}',
  '{"a":"\\u12"}',
  '{"a":"\\u12G4"}',
  '{"a":"\\x41"}',
  '{"a":"\\\'"}',
  '{"a":"tab\there"}', // a raw control character in a string
  '{"a":"nul\u0000"}',
  '{"a":"\u001f"}',
  '{"a":"\u007f del and \u2028 separator"}',
  `{"deep":${'['.repeat(99)}${']'.repeat(99)}}`,
  `{"deep":${'['.repeat(100)}${']'.repeat(100)}}`,
  `{"deep":${'{"a":'.repeat(150)}1${'}'.repeat(150)}}`,
  `{"deep":${'['.repeat(600)}${']'.repeat(600)}}`,
  '{"n":1e999,"eventTime":1e999}',
  '{"n":-0,"eventTime":-0}',
  '{"n":01}',
  '{"n":-01}',
  '{"n":1.}',
  '{"n":.5}',
  '{"n":+1}',
  '{"n":1e}',
  '{"n":1e+}',
  '{"n":-}',
  '{"n":0x10}',
  '{"n":NaN}',
  '{"n":Infinity}',
  '{"n":1.5e-7,"m":-12.25E+3,"eventTime":1700000000123}',
  '{"t":tru}',
  '{"t":truex}',
  '{"t":nul,"f":false}',
  '{"t":true,"f":false,"z":null}',
  '\ufeff{"@timestamp":"2024-01-01T00:00:00Z"}', // BOM inside a line
  '{"@timestamp":"2024-01-01T00:00:00Z","@timestamp":"2025-06-01T00:00:00Z"}', // JSON.parse keeps the last
  '{"@timestamp":"2025-06-01T00:00:00Z","@timestamp":null}',
  '{"@timestamp":null,"timestamp":"2024-02-02T00:00:00Z"}',
  '{"@timestamp":1700000000,"x":1}',
  '{"@timestamp":"1700000000500"}',
  '{"@timestamp":true}',
  '{"@timestamp":{"nested":"2024-01-01T00:00:00Z"}}',
  '{"@timestamp":["2024-01-01T00:00:00Z"]}',
  '{"@timestamp":"not a time"}',
  '{"@timestamp":"2024-01-01 10:00:00"}',
  '{"@timestamp":"2024-01-01T00:00:00\\u005a"}', // an escape in the value
  '{"\\u0040timestamp":"2024-03-03T00:00:00Z"}', // an escape in the key
  '{"event":{"created":"2024-04-04T00:00:00Z"}}',
  '{"event":{"created":"2024-04-04T00:00:00Z","created":"2024-05-05T00:00:00Z"}}',
  '{"event.created":"2024-06-06T00:00:00Z","event":{"created":"2024-04-04T00:00:00Z"}}',
  '{"event":"2024-04-04T00:00:00Z"}',
  '{"event":null}',
  '{"constructor":{"name":"2024-10-10T00:00:00Z"}}',
  '{"__proto__":{"@timestamp":"2024-07-07T00:00:00Z"},"x":1}',
  '{"x":{"__proto__":[1]},"@timestamp":"2024-07-07T00:00:00Z"}',
  '{"TimeGenerated":"spoofed","@timestamp":"2024-08-08T00:00:00Z"}',
  '{"_SourceKey":"spoofed"}',
  '{}',
  '{ }',
  '[]',
  '[{"@timestamp":"2024-01-01T00:00:00Z"}]',
  '"a string"',
  '42',
  'null',
  '  \t {"@timestamp" : "2024-01-01T00:00:00Z" , "a" : [ 1 , { } ] }\t \r',
  '{"a":\t1,\r"b":\r[]}',
  '{"a":1}\u000b',
  '{"a":1}\u00a0',
  '{"ünï":"cødé ✓ 😀","@timestamp":"2024-09-09T00:00:00Z"}',
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), // invalid UTF-8
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]), // truncated UTF-8 sequence
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d]), // UTF-8-encoded surrogate
  Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]), // overlong encoding
];

const ROUTES: Route[] = [
  { timeField: undefined },
  { timeField: 'event.created' },
  { timeField: 'eventTime', timeFormat: 'epoch-millis' },
  { timeField: '@timestamp', timeFormat: 'iso8601' },
  { timeField: '__proto__' },
  { timeField: 'constructor.name' }, // inherited on a parsed object, absent from the scanned one
];

const asBuffer = (line: string | Buffer) => (Buffer.isBuffer(line) ? line : Buffer.from(line));

describe('line scan: same outcome as JSON.parse', () => {
  it('gives every line of the bench corpus exactly what JSON.parse-based decoding gives, without JSON.parse', async () => {
    const corpus = Buffer.from(Array.from({ length: 2_000 }, (_, i) => `${JSON.stringify(code42Event(i))}\n`).join(''));
    for (const route of ROUTES.slice(0, 3)) {
      const parsed = await outcome(corpus, route, false);
      const scanned = await outcome(corpus, route, true);
      assert.deepEqual({ ...scanned, fast: 0 }, { ...parsed, fast: 0 }, `route ${JSON.stringify(route)}`);
      assert.equal(scanned.fast, 2_000, 'every corpus line took the scan');
      assert.equal(parsed.fast, 0);
    }
  });

  it('accepts and rejects each hostile line as JSON.parse does, with the same time and reason', async () => {
    for (const route of ROUTES) {
      for (const line of hostile) {
        // Between good lines, so a document never has zero readable records; and alone, where it may be refused.
        for (const document of [
          Buffer.concat([Buffer.from(`${GOOD}\n`), asBuffer(line), Buffer.from(`\n${GOOD}\n`)]),
          asBuffer(line),
        ]) {
          const parsed = await outcome(document, route, false);
          const scanned = await outcome(document, route, true);
          assert.deepEqual(
            { ...scanned, fast: 0 },
            { ...parsed, fast: 0 },
            `${JSON.stringify(route)}: ${JSON.stringify(line.toString())}`,
          );
        }
      }
    }
  });

  it('never passes a line JSON.parse refuses, and leaves unusual ones to it', () => {
    const scan = createLineScanner(lineScanPlan(undefined));
    let passed = 0;
    for (const line of hostile) {
      const bytes = asBuffer(line);
      if (scan(bytes) === undefined) continue;
      passed++;
      const value: unknown = JSON.parse(bytes.toString());
      assert.ok(value !== null && typeof value === 'object' && !Array.isArray(value), bytes.toString());
    }
    assert.ok(passed >= 10, `only ${passed} hostile lines were valid objects the scan took`);
    for (const unusual of [
      '{"\\u0040timestamp":"x"}',
      '{"TimeGenerated":"x"}',
      '{}',
      '[]',
      '\ufeff{"a":1}',
      `{"deep":${'['.repeat(600)}${']'.repeat(600)}}`,
    ]) {
      assert.equal(scan(Buffer.from(unusual)), undefined, unusual);
    }
    assert.equal(createLineScanner(lineScanPlan('__proto__'))(Buffer.from('{"a":1}')), undefined);
  });

  it('reads the last of duplicate time keys, as JSON.parse does', async () => {
    const document = Buffer.from('{"@timestamp":"2024-01-01T00:00:00Z","@timestamp":"2025-06-01T00:00:00Z"}\n');
    const scanned = await outcome(document, { timeField: undefined }, true);
    assert.equal(scanned.fast, 1);
    assert.match(scanned.lines![0]!, /"TimeGenerated":"2025-06-01T00:00:00.000Z"/);
  });
});
