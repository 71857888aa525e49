import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DecodedRecord } from '../../src/decode-records.ts';
import { createEnricher, type EnrichOptions, toIsoTime } from '../../src/enrich.ts';

const BASE: EnrichOptions = {
  timeField: undefined,
  bucket: 'logs-bucket',
  key: 'incydr/2024/a b+ü.json.gz',
  versionId: undefined,
  fallbackTime: '2024-05-01T00:00:00Z',
};

function enrich(value: Record<string, unknown>, raw: boolean, options: Partial<EnrichOptions> = {}) {
  const enricher = createEnricher({ ...BASE, ...options });
  const record: DecodedRecord = { value, raw: raw ? Buffer.from(JSON.stringify(value)) : undefined, position: 7 };
  const s = enricher.serialize(record);
  const text = s.head.toString() + (s.tail ?? '');
  assert.equal(Buffer.byteLength(text), s.bytes);
  return {
    out: JSON.parse(text) as Record<string, unknown>,
    fallbacks: enricher.timeFallbacks,
    spliced: s.tail !== undefined,
  };
}

describe('toIsoTime', () => {
  it('normalizes ISO strings, offsets, space-separated times and epochs to UTC', () => {
    assert.equal(toIsoTime('2024-03-04T05:06:07.123Z'), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime('2024-03-04T05:06:07Z'), '2024-03-04T05:06:07.000Z');
    assert.equal(toIsoTime('2024-03-04T07:06:07+02:00'), '2024-03-04T05:06:07.000Z');
    assert.equal(toIsoTime('2024-03-04T05:06:07.123456789Z'), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime('2024-03-04T05:06:07'), '2024-03-04T05:06:07.000Z', 'no offset means UTC, not local');
    assert.equal(toIsoTime('2024-03-04 05:06:07'), '2024-03-04T05:06:07.000Z');
    assert.equal(toIsoTime(1709528767), '2024-03-04T05:06:07.000Z');
    assert.equal(toIsoTime(1709528767123), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime('1709528767123'), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime(1709528767123456), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime(1709528767123456000), '2024-03-04T05:06:07.123Z');
    assert.equal(toIsoTime('yesterday-ish'), undefined);
    assert.equal(toIsoTime(''), undefined);
    assert.equal(toIsoTime({}), undefined);
    assert.equal(toIsoTime(Number.POSITIVE_INFINITY), undefined);
  });
});

describe('createEnricher', () => {
  it("takes TimeGenerated from Code42's @timestamp and adds the source fields", () => {
    const { out, fallbacks, spliced } = enrich({ '@timestamp': '2024-03-04T05:06:07Z', user: 'a' }, true);
    assert.equal(spliced, true);
    assert.equal(fallbacks, 0);
    assert.deepEqual(out, {
      '@timestamp': '2024-03-04T05:06:07Z',
      user: 'a',
      TimeGenerated: '2024-03-04T05:06:07.000Z',
      _SourceBucket: 'logs-bucket',
      _SourceKey: 'incydr/2024/a b+ü.json.gz',
      _SourceLine: 7,
    });
  });

  it('tries the default fields in order, including a dotted path', () => {
    assert.equal(
      enrich({ eventTime: '2020-01-01T00:00:00Z', timestamp: 1709528767 }, true).out.TimeGenerated,
      '2024-03-04T05:06:07.000Z',
    );
    assert.equal(
      enrich({ event: { created: '2021-02-03T04:05:06Z' } }, true).out.TimeGenerated,
      '2021-02-03T04:05:06.000Z',
    );
  });

  it('uses the configured field, and falls back to the object time (counted) when unreadable', () => {
    assert.equal(
      enrich({ when: '2022-01-01T00:00:00Z' }, false, { timeField: 'when' }).out.TimeGenerated,
      '2022-01-01T00:00:00.000Z',
    );
    const r = enrich({ '@timestamp': 'garbage' }, true, { versionId: 'v1' });
    assert.equal(r.out.TimeGenerated, '2024-05-01T00:00:00.000Z');
    assert.equal(r.out._SourceVersion, 'v1');
    assert.equal(r.fallbacks, 1);
  });

  it('re-serializes records that already carry an added field, so ours win and keys stay unique', () => {
    const r = enrich({ TimeGenerated: 'old', _SourceLine: 1, timestamp: '2024-01-01T00:00:00Z' }, true);
    assert.equal(r.spliced, false);
    assert.equal(r.out.TimeGenerated, '2024-01-01T00:00:00.000Z');
    assert.equal(r.out._SourceLine, 7);
  });

  it('handles the empty object', () => {
    assert.deepEqual(Object.keys(enrich({}, true).out), [
      'TimeGenerated',
      '_SourceBucket',
      '_SourceKey',
      '_SourceLine',
    ]);
  });
});
