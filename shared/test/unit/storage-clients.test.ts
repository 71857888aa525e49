import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TokenCredential } from '@azure/core-auth';
import type { StorageConfig } from '../../src/config/parts.ts';
import { createStorageClients, isInsecureConnectionString } from '../../src/stores/storage-clients.ts';

const AZURITE =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;';
const storage = (c: Partial<StorageConfig> & Pick<StorageConfig, 'STATUS_TABLE'>): StorageConfig => ({
  STORAGE_CONNECTION_STRING: undefined,
  STORAGE_ACCOUNT_URL: undefined,
  STORAGE_TABLE_URL: undefined,
  ...c,
});
const noCredential = (): TokenCredential => {
  throw new Error('a connection string needs no Azure identity');
};

describe('createStorageClients', () => {
  it('recognises plain-HTTP connection strings (Azurite) and only those', () => {
    assert.equal(isInsecureConnectionString(AZURITE), true);
    assert.equal(isInsecureConnectionString('UseDevelopmentStorage=true'), true);
    assert.equal(
      isInsecureConnectionString(
        'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=a2V5;EndpointSuffix=core.windows.net',
      ),
      false,
    );
  });

  it('builds both clients from a connection string without touching the Azure identity', () => {
    const { blobs, statusTable } = createStorageClients(
      storage({ STORAGE_CONNECTION_STRING: AZURITE, STATUS_TABLE: 'logferrystatus' }),
      noCredential,
    );
    assert.equal(blobs.url, 'http://127.0.0.1:10000/devstoreaccount1');
    assert.equal(statusTable.tableName, 'logferrystatus');
    assert.match(statusTable.url, /^http:\/\/127\.0\.0\.1:10002\/devstoreaccount1/);
  });

  it('derives the table endpoint from a standard blob endpoint for identity auth', () => {
    let asked = 0;
    const credential: TokenCredential = { getToken: async () => null };
    const { blobs, statusTable } = createStorageClients(
      storage({ STORAGE_ACCOUNT_URL: 'https://acct.blob.core.windows.net', STATUS_TABLE: 'status' }),
      () => {
        asked++;
        return credential;
      },
    );
    assert.equal(new URL(blobs.url).host, 'acct.blob.core.windows.net');
    assert.equal(new URL(statusTable.url).host, 'acct.table.core.windows.net');
    assert.ok(asked >= 1);
  });

  it('refuses an account URL whose table endpoint cannot be derived', () => {
    assert.throws(
      () =>
        createStorageClients(
          storage({ STORAGE_ACCOUNT_URL: 'https://storage.example.com', STATUS_TABLE: 'status' }),
          () => ({ getToken: async () => null }),
        ),
      /STORAGE_TABLE_URL is required/,
    );
  });
});
