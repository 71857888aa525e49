import type { TokenCredential } from '@azure/core-auth';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { deriveTableUrl, type StorageConfig } from '../config/parts.ts';
import type { Logger } from '../logging/logger.ts';

export interface StorageClients {
  readonly blobs: BlobServiceClient;
  readonly statusTable: TableClient;
}

/** True when a connection string points at plain-HTTP endpoints (Azurite), which the Tables SDK refuses unless told. */
export function isInsecureConnectionString(connectionString: string): boolean {
  return /TableEndpoint\s*=\s*http:|UseDevelopmentStorage\s*=\s*true|DefaultEndpointsProtocol\s*=\s*http(;|$)/i.test(
    connectionString,
  );
}

/**
 * Blob and Table clients from the shared storage settings: a connection string (Azurite, key-based
 * accounts) or the account URL with the Azure identity. The credential is a factory so that a
 * connection-string setup never builds an identity it does not use.
 */
export function createStorageClients(config: StorageConfig, credential: () => TokenCredential): StorageClients {
  if (config.STORAGE_CONNECTION_STRING) {
    const cs = config.STORAGE_CONNECTION_STRING;
    return {
      blobs: BlobServiceClient.fromConnectionString(cs),
      statusTable: TableClient.fromConnectionString(cs, config.STATUS_TABLE, {
        allowInsecureConnection: isInsecureConnectionString(cs),
      }),
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

/**
 * Creates what a service writes to (tables, containers) when its identity may. A data-plane role may not
 * create them: then they must already exist, and readiness and the first write will say so, so a refusal
 * here is a warning, not a failed start.
 */
export async function ensureStorage(
  logger: Logger,
  what: string,
  ...create: (() => Promise<unknown>)[]
): Promise<void> {
  try {
    for (const c of create) await c();
  } catch (err) {
    logger.warn({ err }, `could not create ${what} if missing; it must already exist`);
  }
}
