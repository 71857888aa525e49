import assert from 'node:assert/strict';
import { it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import type { StagedBatchMessage } from '@logferry/shared';
import { encodeRecordLengths } from '@logferry/shared/stores/record-lengths';
import { createStagedBatchSource } from '../../src/staged-batch-reader.ts';
import { assertSameMultiset, describeHandler, events, STREAM } from './handler-fixture.ts';

describeHandler('sink faults and unreadable batches', (s) => {
  it('waits for Retry-After on 429 in place, then delivers everything once', async () => {
    s.standIn.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 1 }]);
    const records = events(50, 'throttle');
    assert.equal((await s.deliver(await s.stage(records))).kind, 'success');
    assertSameMultiset(s.standIn.records(STREAM), records);
    const [throttled, accepted] = s.standIn.requestLog(STREAM);
    assert.equal(throttled?.status, 429);
    assert.equal(accepted?.status, 204);
    assert.ok((accepted?.at ?? 0) - (throttled?.at ?? 0) >= 950, 'the retry came before Retry-After elapsed');
  });

  it('hands a long Retry-After back to the queue as the retry delay', async () => {
    s.standIn.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 7 }]);
    const records = events(10, 'later');
    const msg = await s.stage(records);
    const first = await s.deliver(msg);
    assert.equal(first.kind, 'retryLater');
    assert.equal(first.kind === 'retryLater' ? first.delayMs : undefined, 7_000);
    assert.equal(s.standIn.records(STREAM).length, 0);
    assert.equal((await s.deliver(msg)).kind, 'success');
    assertSameMultiset(s.standIn.records(STREAM), records);
  });

  it('retries 500s with backoff', async () => {
    s.standIn.setFaults([{ stream: STREAM, status: 500, count: 2 }]);
    const records = events(30, 'flaky');
    assert.equal((await s.deliver(await s.stage(records))).kind, 'success');
    assertSameMultiset(s.standIn.records(STREAM), records);
    assert.deepEqual(s.standIn.stats(STREAM).statuses, { '204': 1, '500': 2 });
  });

  it('splits a request refused with 413 and delivers every record once', async () => {
    s.standIn.setFaults([{ stream: STREAM, status: 413, count: 2 }]);
    const records = events(101, 'split');
    assert.equal((await s.deliver(await s.stage(records))).kind, 'success');
    assertSameMultiset(s.standIn.records(STREAM), records);
    assert.deepEqual(
      s.standIn.requestLog(STREAM).map((r) => [r.status, r.records]),
      [
        [413, 0],
        [413, 0],
        [204, 25],
        [204, 25],
        [204, 51],
      ],
    );
  });

  it('splits a staged batch larger than the request limit into requests under it', async () => {
    const records = events(400, 'big');
    assert.equal(
      (await s.deliver(await s.stage(records), { policy: { ...s.deps.policy, maxRequestBytes: 10_000 } })).kind,
      'success',
    );
    assertSameMultiset(s.standIn.records(STREAM), records);
    const log = s.standIn.requestLog(STREAM);
    assert.ok(log.length > 5);
    assert.ok(log.every((r) => r.status === 204));
  });

  it('dead-letters a batch the API refuses with 400, with the API’s error text', async () => {
    s.standIn.setFaults([{ stream: STREAM, status: 400, count: 1 }]);
    const msg = await s.stage(events(5, 'bad'));
    const result = await s.deliver(msg);
    assert.equal(result.kind, 'deadLetter');
    assert.equal(result.kind === 'deadLetter' && result.reason, 'LogsIngestionRejected');
    assert.match(result.kind === 'deadLetter' ? result.description : '', /^400 InvalidStream: Stream does not match/);
    assert.equal(s.standIn.records(STREAM).length, 0);
    assert.equal(await s.status.get(msg.id), undefined);
    assert.equal(await s.blobExists(msg), true, 'the staged blob stays for inspection');
  });

  it('dead-letters a missing or corrupt staged blob', async () => {
    const missing = await s.stage(events(1, 'gone'));
    await s.container.getBlobClient(missing.blobName).delete();
    const a = await s.deliver(missing);
    assert.equal(a.kind === 'deadLetter' && a.reason, 'StagedBlobMissing');

    const corrupt = await s.stage(events(1, 'corrupt'));
    await s.container.getBlockBlobClient(corrupt.blobName).uploadData(Buffer.from('not gzip at all'));
    const b = await s.deliver(corrupt);
    assert.equal(b.kind === 'deadLetter' && b.reason, 'StagedBlobCorrupt');

    if (!s.v2) {
      const badLine = await s.stage([]);
      await s.container.getBlockBlobClient(badLine.blobName).uploadData(gzipSync('{"ok":1}\n{"truncated":\n'));
      const c = await s.deliver(badLine);
      assert.equal(c.kind === 'deadLetter' && c.reason, 'StagedBlobCorrupt');
      assert.match(c.kind === 'deadLetter' ? c.description : '', /line 2/);
    }
    assert.equal(s.standIn.requests(STREAM), 0);
  });

  if (s.v2) {
    it('dead-letters a batch whose record lengths do not match its blob once it must be split', async () => {
      const msg = await s.stage([{ a: 'x' }, { bb: 'yy' }, { c: 1 }]);
      assert.equal(msg.schemaVersion, 2);
      // Same total, so the message still adds up; the cut points are wrong.
      const swapped = { ...msg, recordLengths: encodeRecordLengths([11, 9, 7]) };
      const small = { ...s.deps.policy, maxRequestBytes: 20 };
      const r = await s.deliver(swapped as StagedBatchMessage, { policy: small });
      assert.equal(r.kind === 'deadLetter' && r.reason, 'StagedBlobCorrupt');
      assert.match(r.kind === 'deadLetter' ? r.description : '', /record 0 is not where its length puts it/);
      assert.equal(s.standIn.requests(STREAM), 0);

      const bad = { ...msg, recordLengths: encodeRecordLengths([9, 9]) };
      const r2 = await s.deliver(bad as StagedBatchMessage);
      assert.equal(r2.kind === 'deadLetter' && r2.reason, 'StagedBlobCorrupt');
      assert.match(r2.kind === 'deadLetter' ? r2.description : '', /record lengths on the message do not add up/);
    });

    it('refuses a staged batch larger than MAX_STAGED_BATCH_BYTES before downloading it', async () => {
      const msg = await s.stage(events(50, 'huge'));
      const blobs = BlobServiceClient.fromConnectionString(s.azurite.connectionString);
      const r = await s.deliver(msg, { staging: createStagedBatchSource(blobs, 1_024) });
      assert.equal(r.kind === 'deadLetter' && r.reason, 'StagedBatchTooLarge');
      assert.equal(s.standIn.requests(STREAM), 0);
    });
  }
});
