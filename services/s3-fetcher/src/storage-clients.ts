import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { deriveTableUrl, type StorageConfig } from '@logferry/shared/config/parts';

/**
 * Blob and Table clients from the shared storage settings: a connection string (Azurite, key-based
 * accounts) or the account URL with the Azure identity. Azurite's table endpoint is plain HTTP, which
 * the Tables SDK refuses unless told.
 */
export function createStorageClients(
  config: StorageConfig,
  credential: () => TokenCredential,
): { blobs: BlobServiceClient; statusTable: TableClient } {
  if (config.STORAGE_CONNECTION_STRING) {
    const cs = config.STORAGE_CONNECTION_STRING;
    const insecure =
      /TableEndpoint\s*=\s*http:|UseDevelopmentStorage\s*=\s*true|DefaultEndpointsProtocol\s*=\s*http(;|$)/i.test(cs);
    return {
      blobs: BlobServiceClient.fromConnectionString(cs),
      statusTable: TableClient.fromConnectionString(cs, config.STATUS_TABLE, { allowInsecureConnection: insecure }),
    };
  }
  const accountUrl = config.STORAGE_ACCOUNT_URL ?? '';
  const tableUrl = deriveTableUrl(accountUrl, config.STORAGE_TABLE_URL);
  if (!tableUrl) throw new Error('STORAGE_TABLE_URL is required when it cannot be derived from STORAGE_ACCOUNT_URL');
  return {
    blobs: new BlobServiceClient(accountUrl, credential()),
    statusTable: new TableClient(tableUrl, config.STATUS_TABLE, credential()),
  };
}
