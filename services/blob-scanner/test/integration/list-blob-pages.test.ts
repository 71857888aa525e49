// listBlobPages against Azurite, with the SDK's own listing as the reference: the same blobs, names,
// ETags and sizes, page by page, for names that need escaping, for a prefix, and for a SAS URL.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  BlobServiceClient,
  type ContainerClient as Container,
  ContainerClient,
  ContainerSASPermissions,
} from '@azure/storage-blob';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { BlobListFormatError } from '../../src/listing/blob-list-xml.ts';
import { listBlobPages } from '../../src/listing/list-blob-pages.ts';

const NAMES = [
  'plain.csv',
  'a&b<c>"d\'e.csv',
  'logs/2026/01/日本語 ü.json',
  'logs/with space and %41 and +plus.csv',
  'logs/#hash?query=1.csv',
  'z'.repeat(300),
];

async function sdkPages(container: Container, prefix: string | undefined, pageSize: number) {
  const pages = [];
  for await (const page of container
    .listBlobsFlat(prefix === undefined ? {} : { prefix })
    .byPage({ maxPageSize: pageSize })) {
    pages.push(
      page.segment.blobItems.map((b) => ({
        name: b.name,
        etag: b.properties.etag ?? '',
        size: b.properties.contentLength,
      })),
    );
  }
  return pages;
}

async function ownPages(container: Container, prefix: string | undefined, pageSize: number, maxPageBytes?: number) {
  const pages = [];
  for await (const page of listBlobPages(container, { prefix, pageSize, ...(maxPageBytes ? { maxPageBytes } : {}) })) {
    pages.push(page);
  }
  return pages;
}

describe('listBlobPages (Azurite)', () => {
  let azurite: AzuriteHandle;
  let container: Container;
  before(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('listing');
    await container.create();
    for (const [i, name] of NAMES.entries()) {
      const body = 'x'.repeat(i * 7);
      await container.getBlockBlobClient(name).upload(body, body.length);
    }
  });
  after(() => azurite.stop());

  it('lists what the SDK lists, page by page, whatever the page size', async () => {
    for (const pageSize of [1, 2, 5000]) {
      const own = await ownPages(container, undefined, pageSize);
      assert.deepEqual(own, await sdkPages(container, undefined, pageSize), `page size ${pageSize}`);
      assert.deepEqual(
        own
          .flat()
          .map((b) => b.name)
          .sort(),
        [...NAMES].sort(),
      );
    }
    const sizes = new Map((await ownPages(container, undefined, 5000)).flat().map((b) => [b.name, b.size]));
    assert.equal(sizes.get('logs/2026/01/日本語 ü.json'), 14);
  });

  it('lists only the prefix, spaces and non-ASCII included', async () => {
    for (const prefix of ['logs/', 'logs/with space', 'logs/2026/01/日本', 'none/']) {
      assert.deepEqual(await ownPages(container, prefix, 2), await sdkPages(container, prefix, 2), prefix);
    }
    assert.equal((await ownPages(container, 'logs/with space', 2)).flat().length, 1);
  });

  it('lists through a container SAS URL', async () => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const sas = await service.getContainerClient('listing').generateSasUrl({
      permissions: ContainerSASPermissions.parse('rl'),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const bySas = new ContainerClient(sas);
    assert.deepEqual(await ownPages(bySas, undefined, 2), await sdkPages(container, undefined, 2));
  });

  it('fails with the status and error code, not the service text, when the container is missing', async () => {
    const missing = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('missing');
    await assert.rejects(ownPages(missing, undefined, 10), (error: Error & { statusCode?: number; code?: string }) => {
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, 'ContainerNotFound');
      assert.equal(error.message, 'List Blobs failed: 404 ContainerNotFound');
      return true;
    });
  });

  describe('an endpoint that answers 200 with something else', () => {
    let server: Server;
    let url: string;
    before(async () => {
      // Answers every request with 200 and the body its path asks for.
      server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'application/xml' });
        // 4 MiB: past the 1 MiB cap the test sets; the client stops reading and closes the connection.
        res.end(req.url?.startsWith('/huge/') ? Buffer.alloc(4 * 1024 * 1024, 0x61) : '<html>not a listing</html>');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('stops reading past the byte cap', async () => {
      const huge = new ContainerClient(`${url}/huge/c`);
      await assert.rejects(
        ownPages(huge, undefined, 10, 1024 * 1024),
        (error: Error) => error instanceof BlobListFormatError && /larger than 1048576 bytes/.test(error.message),
      );
    });

    it('rejects a body that is not a List Blobs answer', async () => {
      await assert.rejects(ownPages(new ContainerClient(`${url}/html/c`), undefined, 10), BlobListFormatError);
    });
  });
});
