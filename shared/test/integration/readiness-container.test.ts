// containerReadable against Azurite: the readiness check s3-fetcher and la-uploader run on their staging container.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { cachedCheck, containerReadable } from '../../src/lifecycle/readiness.ts';
import { AZURITE_ACCOUNT, type AzuriteHandle, startAzurite } from '../../src/testing/index.ts';

describe('containerReadable on Azurite', () => {
  let azurite: AzuriteHandle;
  let blobs: BlobServiceClient;
  // One try: the check reports the first failure, as a probe should.
  const noRetry = { retryOptions: { maxTries: 1 } };

  before(async () => {
    azurite = await startAzurite();
    blobs = BlobServiceClient.fromConnectionString(azurite.connectionString, noRetry);
    await blobs.getContainerClient('staging').create();
    await blobs.getContainerClient('staging').uploadBlockBlob('a.ndjson.gz', 'x', 1);
    await blobs.getContainerClient('empty').create();
  });
  after(() => azurite.stop());

  it('is ready for an existing container, empty or not', async () => {
    assert.equal(await containerReadable(blobs.getContainerClient('staging'))(), true);
    assert.equal(await containerReadable(blobs.getContainerClient('empty'))(), true);
  });

  it('is not ready for a missing container, unless told a 404 is enough', async () => {
    const missing = blobs.getContainerClient('no-such-container');
    assert.equal(await containerReadable(missing)(), false);
    assert.equal(await containerReadable(missing, { missingIsReady: true })(), true);
  });

  it('is not ready when the account refuses the credential (even with missingIsReady)', async () => {
    const wrongKey = Buffer.from('not the account key').toString('base64');
    const refused = new BlobServiceClient(
      azurite.blobEndpoint,
      new StorageSharedKeyCredential(AZURITE_ACCOUNT, wrongKey),
      noRetry,
    );
    assert.equal(await containerReadable(refused.getContainerClient('staging'))(), false);
    assert.equal(await containerReadable(refused.getContainerClient('staging'), { missingIsReady: true })(), false);
  });

  it('is not ready when the blob service is unreachable, or answers too slowly', async () => {
    const unreachable = new BlobServiceClient(`http://127.0.0.1:1/${AZURITE_ACCOUNT}`, undefined, noRetry);
    assert.equal(await containerReadable(unreachable.getContainerClient('staging'))(), false);

    const silent: Server = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = (silent.address() as AddressInfo).port;
      const slow = new BlobServiceClient(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`, undefined, noRetry);
      const started = Date.now();
      assert.equal(await containerReadable(slow.getContainerClient('staging'), { timeoutMs: 300 })(), false);
      assert.ok(Date.now() - started < 3_000, 'bounded by the timeout');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('answers from cache inside cachedCheck: one listing per ttl', async () => {
    let listings = 0;
    const container = blobs.getContainerClient('staging');
    const counted = {
      listBlobsFlat: (options?: { abortSignal?: AbortSignal }) => {
        listings++;
        return container.listBlobsFlat(options);
      },
    };
    const check = cachedCheck(containerReadable(counted), { ttlMs: 60_000 });
    assert.deepEqual(await Promise.all([check(), check(), check()]), [true, true, true]);
    assert.equal(await check(), true);
    assert.equal(listings, 1);
  });
});
