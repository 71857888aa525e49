import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError, parseConfig } from '@logferry/shared/config/define';
import { config, resolveStream } from '@logferry/shared/config/services/la-uploader';
import { formatRanges, mergeRanges, parseRanges } from '@logferry/shared/stores/batch-status';
import { jsonArrayBytesOf } from '@logferry/shared/stores/record-lengths';
import { toJsonArray } from '@logferry/shared/stores/staged-ndjson';
import { classify, errorText } from '../../src/logs-ingestion-client.ts';
import { parseRetryAfter } from '../../src/retry-after.ts';
import { createTokenSource } from '../../src/token-cache.ts';
import { chunkRanges, halve, pendingRanges, requestBodies } from '../../src/upload-plan.ts';

describe('upload plan', () => {
  const lines = ['{"a":1}', '{"b":22}', '{"c":333}', '{"d":4444}'].map((l) => Buffer.from(l));
  const bytes = lines.map((l) => l.length);

  const array = toJsonArray(lines);
  const whole = gzipSync(array);
  let inflated = 0;
  const bodies = requestBodies({
    lengths: bytes,
    whole,
    array: async () => {
      inflated++;
      return array;
    },
  });

  it('sends the whole batch as stored and opens it only to cut a part', async () => {
    assert.equal(await bodies({ start: 0, end: 4 }), whole);
    assert.equal(inflated, 0);
    assert.equal(gunzipSync(await bodies({ start: 1, end: 3 })).toString(), '[{"b":22},{"c":333}]');
    assert.equal(gunzipSync(await bodies({ start: 3, end: 4 })).toString(), '[{"d":4444}]');
    assert.equal(inflated, 2);
  });

  it('chunks records so every JSON body stays within the limit', async () => {
    const all = [{ start: 0, end: 4 }];
    for (const max of [10, 20, 30, 1000]) {
      const chunks = chunkRanges(bytes, all, max);
      assert.deepEqual(
        chunks.flatMap((r) => lines.slice(r.start, r.end)),
        lines,
      );
      for (const r of chunks) {
        const body = gunzipSync(await bodies(r));
        assert.equal(body.length, jsonArrayBytesOf(bytes, r));
        assert.ok(body.length <= max || r.end - r.start === 1);
        assert.ok(Array.isArray(JSON.parse(body.toString())));
      }
    }
    assert.equal(chunkRanges(bytes, all, 1000).length, 1);
  });

  it('finds what is left after uploaded ranges and halves ranges', () => {
    assert.deepEqual(pendingRanges(10, []), [{ start: 0, end: 10 }]);
    assert.deepEqual(
      pendingRanges(10, [
        { start: 2, end: 4 },
        { start: 0, end: 1 },
      ]),
      [
        { start: 1, end: 2 },
        { start: 4, end: 10 },
      ],
    );
    assert.deepEqual(pendingRanges(10, [{ start: 0, end: 10 }]), []);
    assert.deepEqual(halve({ start: 0, end: 5 }), [
      { start: 0, end: 2 },
      { start: 2, end: 5 },
    ]);
    assert.equal(halve({ start: 3, end: 4 }), undefined);
  });

  it('keeps uploaded ranges merged and round-trips them through the row format', () => {
    const merged = mergeRanges([
      { start: 5, end: 7 },
      { start: 0, end: 2 },
      { start: 2, end: 5 },
      { start: 9, end: 10 },
    ]);
    assert.deepEqual(merged, [
      { start: 0, end: 7 },
      { start: 9, end: 10 },
    ]);
    assert.deepEqual(parseRanges(formatRanges(merged)), merged);
  });
});

describe('answers of the Logs Ingestion API', () => {
  it('classifies status codes into what the uploader does', () => {
    assert.equal(classify(204, {}, '').kind, 'accepted');
    assert.deepEqual(classify(429, { 'retry-after': '3' }, '').kind, 'throttled');
    assert.equal(classify(413, {}, '').kind, 'tooLarge');
    assert.equal(classify(500, {}, '').kind, 'transient');
    assert.equal(classify(408, {}, '').kind, 'transient');
    assert.equal(classify(503, { 'retry-after': '2' }, '').kind, 'throttled');
    let invalidated = false;
    assert.equal(
      classify(401, {}, '', () => {
        invalidated = true;
      }).kind,
      'misconfigured',
    );
    assert.ok(invalidated, 'a 401 drops the cached token');
    assert.equal(classify(403, {}, '').kind, 'misconfigured');
    assert.equal(classify(400, {}, '').kind, 'rejected');
  });

  it('turns Azure error bodies into one bounded line', () => {
    assert.equal(
      errorText(400, '{"error":{"code":"InvalidStream","message":"Stream\\nnot found"}}'),
      '400 InvalidStream: Stream not found',
    );
    assert.equal(errorText(502, '<html>bad gateway</html>'), '502 <html>bad gateway</html>');
    assert.ok(errorText(400, 'x'.repeat(5000)).length <= 1024);
  });

  it('reads Retry-After as seconds, HTTP date or Azure milliseconds', () => {
    assert.equal(parseRetryAfter({ 'retry-after': '7' }), 7000);
    assert.equal(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '7' }), 250);
    assert.equal(
      parseRetryAfter({ 'retry-after': new Date(10_000).toUTCString() }, () => 4_000),
      6000,
    );
    assert.equal(parseRetryAfter({ 'retry-after': 'soon' }), undefined);
    assert.equal(parseRetryAfter({}), undefined);
  });
});

describe('token source', () => {
  it('reuses a token until shortly before expiry and fetches once for concurrent callers', async () => {
    let clock = 0;
    let calls = 0;
    const tokens = createTokenSource(
      {
        getToken: async () => {
          calls += 1;
          return { token: `t${calls}`, expiresOnTimestamp: clock + 3_600_000 };
        },
      },
      'https://monitor.azure.com/.default',
      () => clock,
    );
    assert.deepEqual(await Promise.all([tokens.token(), tokens.token()]), ['t1', 't1']);
    clock = 3_600_000 - 60_000;
    assert.equal(await tokens.token(), 't2');
    tokens.invalidate();
    assert.equal(await tokens.token(), 't3');
  });
});

describe('la-uploader configuration', () => {
  const base = {
    SERVICEBUS_CONNECTION_STRING:
      'Endpoint=sb://localhost;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true',
    STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
    LOGS_INGESTION_ENDPOINT: 'https://my-dce.westeurope-1.ingest.monitor.azure.com/',
    DCR_IMMUTABLE_ID: 'dcr-0123456789abcdef0123456789abcdef',
  };

  it('derives the stream from the seeds’ table name, with or without _CL', () => {
    const c = parseConfig(config, { ...base, C42_LOG_ANALYTICS_TABLE: 'Code42Events' });
    assert.equal(resolveStream(c), 'Custom-Code42Events_CL');
    assert.equal(resolveStream({ LOG_ANALYTICS_TABLE: 'Code42Events_CL' }), 'Custom-Code42Events_CL');
    assert.equal(resolveStream({ DCR_STREAM: 'Custom-Raw', LOG_ANALYTICS_TABLE: 'X' }), 'Custom-Raw');
    assert.equal(c.LOGS_INGESTION_ENDPOINT, 'https://my-dce.westeurope-1.ingest.monitor.azure.com');
    assert.equal(c.STAGING_RETENTION, 'delete');
  });

  it('refuses a missing stream, a plain-HTTP endpoint and a DCR resource id', () => {
    assert.throws(() => parseConfig(config, base), ConfigError);
    assert.throws(
      () => parseConfig(config, { ...base, DCR_STREAM: 'Custom-X_CL', LOGS_INGESTION_ENDPOINT: 'http://x' }),
      /https/,
    );
    assert.throws(
      () =>
        parseConfig(config, {
          ...base,
          DCR_STREAM: 'Custom-X_CL',
          DCR_IMMUTABLE_ID: '/subscriptions/0/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/x',
        }),
      /immutable id/,
    );
  });
});
