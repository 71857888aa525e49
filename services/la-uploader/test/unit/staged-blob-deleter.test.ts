// The deleter's error paths the emulator cannot produce: an account that refuses Blob Batch, a request
// that hangs at shutdown, a queue past its bound. The Blob SDK is stubbed; the Azurite test covers the rest.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type BlobServiceClient, RestError } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared';
import { waitUntil } from '@logferry/shared/testing';
import { createStagedBlobDeleter } from '../../src/staged-blob-deleter.ts';

const logger = createLogger('la-uploader-test', { level: 'silent' });

interface StubCalls {
  batches: number[];
  singles: string[];
}

function stubBlobs(deleteBlobs: (names: readonly string[]) => Promise<unknown>): {
  blobs: BlobServiceClient;
  calls: StubCalls;
} {
  const calls: StubCalls = { batches: [], singles: [] };
  const blobs = {
    getContainerClient: (container: string) => ({
      getBlobClient: (name: string) => ({
        name: `${container}/${name}`,
        deleteIfExists: async () => {
          calls.singles.push(`${container}/${name}`);
          return { succeeded: true };
        },
      }),
    }),
    getBlobBatchClient: () => ({
      deleteBlobs: (clients: readonly { name: string }[]) => {
        calls.batches.push(clients.length);
        return deleteBlobs(clients.map((c) => c.name));
      },
    }),
  } as unknown as BlobServiceClient;
  return { blobs, calls };
}

describe('staged blob deleter: error paths', () => {
  it('falls back to one delete per blob, for good, when the account refuses Blob Batch', async () => {
    const { blobs, calls } = stubBlobs(async () => {
      throw new RestError('This feature is not supported', { statusCode: 400 });
    });
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000 });
    for (let i = 0; i < 20; i++) deleter.delete('staging', `a/${i}`);
    await deleter.flush();
    for (let i = 0; i < 20; i++) deleter.delete('staging', `b/${i}`);
    await deleter.flush();
    assert.deepEqual(calls.batches, [20], 'one refused batch request, then none');
    assert.equal(calls.singles.length, 40);
    assert.deepEqual(deleter.counts, { deleted: 40, absent: 0, abandoned: 0 });
  });

  // 429: throttled; 403: the role or a clock skew, which single deletes would get too. Neither means no Blob Batch.
  for (const status of [429, 403]) {
    it(`retries a batch request answered ${status} as a batch, without falling back to single deletes`, async () => {
      let answers = 0;
      const { blobs, calls } = stubBlobs(async (names) => {
        if (answers++ === 0) throw new RestError(`refused with ${status}`, { statusCode: status });
        return { subResponses: names.map(() => ({ status: 202 })) };
      });
      const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000, retryDelayMs: 10 });
      for (let i = 0; i < 20; i++) deleter.delete('staging', `t/${i}`);
      await deleter.flush();
      assert.equal(deleter.counts.deleted, 0, 'the first request was refused');
      await waitUntil('the retry after the delay', () => deleter.counts.deleted === 20, { timeoutMs: 2_000 });
      assert.deepEqual(calls.batches, [20, 20]);
      assert.deepEqual(calls.singles, []);
      assert.deepEqual(deleter.counts, { deleted: 20, absent: 0, abandoned: 0 });
    });
  }

  it('retries only the deletes of a batch that failed', async () => {
    let answers = 0;
    const { blobs, calls } = stubBlobs(async (names) => {
      const first = answers++ === 0;
      return {
        subResponses: names.map((_, i) => ({ status: first && i < 3 ? 500 : 202, errorCode: 'InternalError' })),
      };
    });
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000, retryDelayMs: 10 });
    for (let i = 0; i < 20; i++) deleter.delete('staging', `p/${i}`);
    await deleter.flush();
    assert.equal(deleter.counts.deleted, 17);
    // Three left: too few for a batch request, so they go one by one.
    await waitUntil('the three retried', () => deleter.counts.deleted === 20, { timeoutMs: 2_000 });
    assert.deepEqual(calls.batches, [20]);
    assert.deepEqual(calls.singles, ['staging/p/0', 'staging/p/1', 'staging/p/2']);
    assert.equal(deleter.counts.deleted, 20);
  });

  it('keeps sending while names arrive during a request: new names are not mistaken for failed ones', async () => {
    const { blobs, calls } = stubBlobs(async (names) => {
      await new Promise((r) => setTimeout(r, 30));
      return { subResponses: names.map(() => ({ status: 202 })) };
    });
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000, retryDelayMs: 60_000 });
    // 1,000 names, 20 every 5 ms: requests go as 256 are queued, each while more arrive.
    for (let i = 0; i < 1_000; i += 20) {
      for (let j = i; j < i + 20; j++) deleter.delete('staging', `s/${j}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    // Three full requests go without a flush; only the last 232 wait for the delay.
    await waitUntil('three full requests deleted', () => deleter.counts.deleted >= 768, { timeoutMs: 2_000 });
    await deleter.flush();
    assert.deepEqual(deleter.counts, { deleted: 1_000, absent: 0, abandoned: 0 });
    assert.ok(calls.batches.every((n) => n <= 256));
  });

  it('retries the blobs an answer has no sub-response for, instead of forgetting them', async () => {
    let answers = 0;
    const { blobs, calls } = stubBlobs(async (names) => {
      const first = answers++ === 0;
      return { subResponses: (first ? names.slice(0, 20) : names).map(() => ({ status: 202 })) };
    });
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000, retryDelayMs: 10 });
    for (let i = 0; i < 40; i++) deleter.delete('staging', `m/${i}`);
    await deleter.flush();
    assert.equal(deleter.counts.deleted, 20);
    await waitUntil('the missing ones retried', () => deleter.counts.deleted === 40, { timeoutMs: 2_000 });
    assert.deepEqual(calls.batches, [40, 20]);
    assert.deepEqual(deleter.counts, { deleted: 40, absent: 0, abandoned: 0 });
  });

  it('bounds the queue: past maxPending the oldest names are dropped, counted as abandoned', async () => {
    const { blobs } = stubBlobs(async () => {
      throw new RestError('timeout', { statusCode: 503 });
    });
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000, maxPending: 100, retryDelayMs: 60_000 });
    for (let i = 0; i < 150; i++) deleter.delete('staging', `q/${i}`);
    assert.equal(deleter.counts.abandoned, 50);
    await deleter.close(50);
    assert.equal(deleter.counts.abandoned, 150);
  });

  it('close gives up on a request that hangs, after its timeout, leaving the blobs to the lifecycle rule', async () => {
    const { blobs } = stubBlobs(() => new Promise(() => {}));
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000 });
    for (let i = 0; i < 30; i++) deleter.delete('staging', `h/${i}`);
    const started = Date.now();
    await deleter.close(200);
    assert.ok(Date.now() - started < 2_000, 'close returned');
    assert.equal(deleter.counts.deleted, 0);
  });
});
