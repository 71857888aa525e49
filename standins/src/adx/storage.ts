import { AzureNamedKeyCredential, generateTableSas, TableClient } from '@azure/data-tables';
import { SASProtocol as BlobSasProtocol, BlobServiceClient, ContainerSASPermissions } from '@azure/storage-blob';
import { QueueSASPermissions, QueueServiceClient, SASProtocol } from '@azure/storage-queue';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '@logferry/shared/testing/azurite';

/** Names of the data-management resources, as ADX names them on a real cluster (prefixed per stand-in). */
export interface AdxResourceNames {
  readonly ingestionQueue: string;
  readonly successQueue: string;
  readonly failureQueue: string;
  readonly tempContainer: string;
  readonly statusTable: string;
}

export function resourceNames(prefix: string): AdxResourceNames {
  return {
    ingestionQueue: `${prefix}-readyforaggregation-secured`,
    successQueue: `${prefix}-successfulingestions`,
    failureQueue: `${prefix}-failedingestions`,
    tempContainer: `${prefix}-tempstorage`,
    statusTable: `${prefix.replace(/[^A-Za-z0-9]/g, '')}ingestionsstatus`,
  };
}

export interface StorageRoots {
  readonly ingestionQueue: string;
  readonly successQueue: string;
  readonly failureQueue: string;
  readonly tempContainer: string;
  readonly statusTable: string;
}

function connectionStringPart(cs: string, key: string): string | undefined {
  return new RegExp(`(?:^|;)\\s*${key}=([^;]+)`, 'i').exec(cs)?.[1];
}

/**
 * Creates the queues, container and table in the storage account (Azurite) and returns their URLs with
 * SAS tokens signed by the account key, like the StorageRoot values of `.get ingestion resources`.
 */
export async function provisionResources(connectionString: string, names: AdxResourceNames): Promise<StorageRoots> {
  const queues = QueueServiceClient.fromConnectionString(connectionString);
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  const table = TableClient.fromConnectionString(connectionString, names.statusTable, {
    allowInsecureConnection: true,
  });
  const expiresOn = new Date(Date.now() + 7 * 24 * 3600_000);
  const queueSas = (name: string) =>
    queues.getQueueClient(name).generateSasUrl({
      expiresOn,
      permissions: QueueSASPermissions.parse('raup'),
      protocol: SASProtocol.HttpsAndHttp,
    });
  for (const q of [names.ingestionQueue, names.successQueue, names.failureQueue])
    await queues.getQueueClient(q).createIfNotExists();
  const container = blobs.getContainerClient(names.tempContainer);
  await container.createIfNotExists();
  await table.createTable();
  const account = connectionStringPart(connectionString, 'AccountName') ?? AZURITE_ACCOUNT;
  const key = connectionStringPart(connectionString, 'AccountKey') ?? AZURITE_KEY;
  const tableSas = generateTableSas(names.statusTable, new AzureNamedKeyCredential(account, key), {
    expiresOn,
    permissions: { add: true, query: true, update: true },
  });
  return {
    ingestionQueue: queueSas(names.ingestionQueue),
    successQueue: queueSas(names.successQueue),
    failureQueue: queueSas(names.failureQueue),
    tempContainer: await container.generateSasUrl({
      expiresOn,
      permissions: ContainerSASPermissions.parse('rwdl'),
      protocol: BlobSasProtocol.HttpsAndHttp,
    }),
    statusTable: `${table.url}?${tableSas}`,
  };
}

/** Credentials the stand-in uses where a real cluster would use its managed identity. */
export function sharedKeyParts(connectionString: string): { account: string; key: string } {
  return {
    account: connectionStringPart(connectionString, 'AccountName') ?? AZURITE_ACCOUNT,
    key: connectionStringPart(connectionString, 'AccountKey') ?? AZURITE_KEY,
  };
}
