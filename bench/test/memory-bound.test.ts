// s3-fetcher's memory is bounded by its configuration, not by the object's size: the same fetch, in a child
// process as the service runs it (--max-semi-space-size=8, as the image and the local run start it), of an
// object four times larger must not need four times the memory. RSS, not time: nothing here depends on speed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { type AzuriteHandle, type FauxqsHandle, startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import { type ChildReport, runChild, SEMI_SPACE_FLAG } from '../src/fetcher-bench.ts';
import { code42Event, gzipNdjsonStream } from '../src/fetcher-corpus.ts';

const MB = 1024 * 1024;
const recordBytes = Buffer.byteLength(`${JSON.stringify(code42Event(1))}\n`);

describe('s3-fetcher memory', { timeout: 300_000 }, () => {
  let fauxqs: FauxqsHandle;
  let azurite: AzuriteHandle;
  before(async () => {
    [fauxqs, azurite] = await Promise.all([startFauxqsServer(), startAzurite()]);
    await fauxqs.s3().send(new CreateBucketCommand({ Bucket: 'memory' }));
  });
  after(async () => {
    await Promise.all([fauxqs?.stop(), azurite?.stop()]);
  });

  async function fetchObjectOf(megabytes: number, run: number): Promise<ChildReport & { records: number }> {
    const records = Math.ceil((megabytes * MB) / recordBytes);
    const key = `objects/${megabytes}mb.json.gz`;
    await new Upload({
      client: fauxqs.s3(),
      params: { Bucket: 'memory', Key: key, Body: gzipNdjsonStream(records, 1) },
      partSize: 8 * MB, // fauxqs accepts request bodies up to 11 MiB
      queueSize: 2,
    }).done();
    const report = await runChild(
      {
        ...fauxqs.env(),
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        BENCH_BUCKET: 'memory',
        BENCH_KEY: key,
        BENCH_RUN: `mem${run}`,
      },
      [SEMI_SPACE_FLAG],
    );
    return { ...report, records };
  }

  it('does not grow with the object: 64 MB and 256 MB objects fetch in about the same memory', async () => {
    const small = await fetchObjectOf(64, 1);
    const large = await fetchObjectOf(256, 2);
    for (const r of [small, large]) assert.equal(r.outcome, 'success', JSON.stringify(r));
    const growth = (r: ChildReport) => Math.round((r.peakRssBytes - r.rssBeforeBytes) / MB);
    const figures = `64 MB object: +${growth(small)} MB RSS; 256 MB object: +${growth(large)} MB RSS`;
    console.log(`s3-fetcher memory: ${figures}`);
    // Buffering the object would cost at least its size; the staging pipeline needs a few MB of batches.
    assert.ok(growth(large) < 128, `peak growth stays well under the object's size (${figures})`);
    assert.ok(growth(large) < growth(small) + 64, `four times the object, not four times the memory (${figures})`);
  });
});
