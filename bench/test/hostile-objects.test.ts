// Hostile objects must not cost s3-fetcher more memory than its configuration allows: each is fetched in a
// child process with the service's defaults (and --max-semi-space-size=8, as the image runs it) and its
// peak RSS, sampled every 25 ms, must stay under 256 MB, the chart's memory request.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type AzuriteHandle, type FauxqsHandle, startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import { runChild, SEMI_SPACE_FLAG } from '../src/fetcher-bench.ts';

const MB = 1024 * 1024;
const LIMIT_MB = 256;
const good = (i: number) => JSON.stringify({ TimeGenerated: '2024-01-01T00:00:00Z', i });

/** The attack run's objects (issue 12), each with a few good records around the hostile part. */
const HOSTILE: Record<string, () => Buffer> = {
  // 100,000 columns, 40 rows: refused at the header (MAX_CSV_COLUMNS), before any row becomes a record.
  'csv-100k-columns.csv': () => {
    const header = Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',');
    const row = Array.from({ length: 100_000 }, () => '1').join(',');
    return Buffer.from(`${header}\n${Array.from({ length: 40 }, () => row).join('\n')}\n`);
  },
  // One pretty-printed (multi-line, so re-serialized) record holding a 300,000-element array, then good ones.
  'array-300k-elements.json': () =>
    Buffer.from(
      `[${good(1)},\n{"TimeGenerated":"2024-01-01T00:00:00Z","a":[\n${Array(300_000).fill('0').join(',\n')}\n]},\n${good(2)}]`,
    ),
  // A JSON array document of 300,000 small records.
  'document-300k-records.json': () =>
    Buffer.from(`[${Array.from({ length: 300_000 }, (_, i) => good(i)).join(',\n')}]`),
  // Records nested 100,000 levels deep (with TimeGenerated, so they would be re-serialized), among good ones.
  'deep-100k-levels.ndjson': () => {
    const deep = `{"TimeGenerated":"2024-01-01T00:00:00Z","d":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    return Buffer.from([good(1), deep, good(2), deep, good(3)].join('\n'));
  },
};

describe('s3-fetcher memory under hostile objects', { timeout: 600_000 }, () => {
  let fauxqs: FauxqsHandle;
  let azurite: AzuriteHandle;
  before(async () => {
    [fauxqs, azurite] = await Promise.all([startFauxqsServer(), startAzurite()]);
    await fauxqs.s3().send(new CreateBucketCommand({ Bucket: 'bench-logs' }));
  });
  after(async () => {
    await Promise.all([fauxqs?.stop(), azurite?.stop()]);
  });

  let run = 0;
  for (const [key, make] of Object.entries(HOSTILE)) {
    it(`fetches ${key} in under ${LIMIT_MB} MB peak RSS`, async () => {
      const body = make();
      await new Upload({
        client: fauxqs.s3(),
        params: { Bucket: 'bench-logs', Key: key, Body: body },
        partSize: 8 * MB,
        queueSize: 1,
      }).done();
      const report = await runChild(
        {
          ...fauxqs.env(),
          STORAGE_CONNECTION_STRING: azurite.connectionString,
          BENCH_BUCKET: 'bench-logs',
          BENCH_KEY: key,
          BENCH_RUN: `hostile${++run}`,
        },
        [SEMI_SPACE_FLAG],
      );
      const peak = Math.round(report.peakRssBytes / MB);
      console.log(
        `s3-fetcher ${key} (${Math.round(body.length / MB)} MB): peak RSS ${peak} MB ` +
          `(${Math.round(report.rssBeforeBytes / MB)} MB before), ${report.outcome} in ${Math.round(report.ms)} ms`,
      );
      assert.equal(report.outcome, key === 'csv-100k-columns.csv' ? 'deadLetter' : 'success', JSON.stringify(report));
      assert.ok(peak < LIMIT_MB, `${key}: peak RSS ${peak} MB`);
    });
  }
});
