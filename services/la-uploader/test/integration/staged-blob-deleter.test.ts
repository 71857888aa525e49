// The deleter against Azurite with the real Blob SDK: Blob Batch requests, the delay, names already gone,
// and an account that does not answer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, type ContainerClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared';
import { AZURITE_ACCOUNT, AZURITE_KEY, type AzuriteHandle, startAzurite, waitUntil } from '@logferry/shared/testing';
import { createStagedBlobDeleter } from '../../src/staged-blob-deleter.ts';

const logger = createLogger('la-uploader-test', { level: 'silent' });

describe('staged blob deleter (Azurite)', () => {
  let azurite: AzuriteHandle;
  let blobs: BlobServiceClient;
  let container: ContainerClient;

  before(async () => {
    azurite = await startAzurite();
    blobs = BlobServiceClient.fromConnectionString(azurite.connectionString);
    container = blobs.getContainerClient('staging');
    await container.createIfNotExists();
  });
  after(() => azurite?.stop());

  async function stage(prefix: string, count: number): Promise<string[]> {
    const names = Array.from({ length: count }, (_, i) => `${prefix}/2026/12/03/${String(i).padStart(6, '0')}.json.gz`);
    for (const name of names) await container.getBlockBlobClient(name).uploadData(Buffer.from('[{"a":1}]'));
    return names;
  }
  async function left(prefix: string): Promise<number> {
    let n = 0;
    for await (const _ of container.listBlobsFlat({ prefix })) n++;
    return n;
  }

  it('sends a Blob Batch request as soon as 256 are queued, and the rest on flush', async () => {
    const names = await stage('full', 300);
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000 });
    for (const name of names) deleter.delete('staging', name);
    await waitUntil('the first 256 deleted without a flush', async () => (await left('full')) === 44);
    await deleter.flush();
    assert.equal(await left('full'), 0);
    assert.deepEqual(deleter.counts, { deleted: 300, absent: 0, abandoned: 0 });
  });

  it('deletes what waited for the delay, without a flush', async () => {
    const names = await stage('delay', 20);
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 200 });
    for (const name of names) deleter.delete('staging', name);
    assert.equal(await left('delay'), 20, 'nothing goes before the delay');
    await waitUntil('the queued blobs deleted', async () => (await left('delay')) === 0, { timeoutMs: 5_000 });
    assert.equal(deleter.counts.deleted, 20);
  });

  it('counts names already gone (a redelivered batch) as absent, in a batch and one by one', async () => {
    const names = await stage('absent', 30);
    const deleter = createStagedBlobDeleter(blobs, { logger, delayMs: 60_000 });
    // 30 names, 10 of them missing: one Blob Batch request.
    for (const name of names.slice(10)) await container.getBlobClient(name).delete();
    for (const name of names) deleter.delete('staging', name);
    await deleter.flush();
    assert.deepEqual(deleter.counts, { deleted: 10, absent: 20, abandoned: 0 });
    // Two names: too few for a batch request, deleted one by one.
    deleter.delete('staging', names[0] as string);
    deleter.delete('staging', 'absent/never-written.json.gz');
    await deleter.flush();
    assert.deepEqual(deleter.counts, { deleted: 10, absent: 22, abandoned: 0 });
  });

  it('retries an account that does not answer, then leaves the blobs to the lifecycle rule, and never throws', async () => {
    // A closed port: every request fails at once (the SDK's own retries off).
    const gone = new BlobServiceClient(
      `http://127.0.0.1:9/${AZURITE_ACCOUNT}`,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
      { retryOptions: { maxTries: 1 } },
    );
    const deleter = createStagedBlobDeleter(gone, { logger, delayMs: 10, retryDelayMs: 20, maxAttempts: 3 });
    for (let i = 0; i < 40; i++) deleter.delete('staging', `outage/${i}.json.gz`);
    await waitUntil('every blob abandoned after 3 attempts', () => deleter.counts.abandoned === 40, {
      timeoutMs: 10_000,
    });
    assert.equal(deleter.counts.deleted, 0);
    await deleter.close(1_000);
  });
});
