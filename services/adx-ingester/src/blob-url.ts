import {
  BlobSASPermissions,
  type BlobServiceClient,
  generateBlobSASQueryParameters,
  SASProtocol,
  type UserDelegationKey,
} from '@azure/storage-blob';

/** The URL ADX downloads a blob from: signed (SAS) or plain for the cluster's managed identity. */
export type BlobUrlFor = (container: string, blobName: string) => Promise<string>;

export interface BlobUrlOptions {
  readonly blobService: BlobServiceClient;
  readonly mode: 'sas' | 'managed-identity';
  /** Whether the client holds the account key (connection string); otherwise SAS uses a user delegation key. */
  readonly hasAccountKey: boolean;
  /** 'system' or a user-assigned identity's object id (managed-identity mode). */
  readonly identity: string;
  readonly sasTtlMs: number;
  readonly now?: () => Date;
}

/**
 * Builds blob URLs for ADX. SAS tokens are read-only and scoped to one blob. User delegation keys are
 * cached and renewed before they expire, so a busy ingester asks Entra for one only every few hours.
 */
export function createBlobUrlFor(options: BlobUrlOptions): BlobUrlFor {
  const now = options.now ?? (() => new Date());
  let delegation: { key: UserDelegationKey; validUntil: number } | undefined;

  const delegationKey = async (expiresOn: Date): Promise<UserDelegationKey> => {
    if (delegation && delegation.validUntil > expiresOn.getTime()) return delegation.key;
    const startsOn = new Date(now().getTime() - 5 * 60_000);
    // A delegation key may live up to 7 days; take 2 days more than one SAS needs so it is reused.
    const keyExpiry = new Date(
      Math.min(expiresOn.getTime() + 2 * 86_400_000, startsOn.getTime() + 7 * 86_400_000 - 60_000),
    );
    const key = await options.blobService.getUserDelegationKey(startsOn, keyExpiry);
    delegation = { key, validUntil: keyExpiry.getTime() };
    return key;
  };

  return async (container, blobName) => {
    const blob = options.blobService.getContainerClient(container).getBlobClient(blobName);
    if (options.mode === 'managed-identity') return `${blob.url};managed_identity=${options.identity}`;
    const startsOn = new Date(now().getTime() - 5 * 60_000);
    const expiresOn = new Date(now().getTime() + options.sasTtlMs);
    const values = {
      containerName: container,
      blobName,
      permissions: BlobSASPermissions.parse('r'),
      startsOn,
      expiresOn,
      protocol: blob.url.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    };
    if (options.hasAccountKey) return blob.generateSasUrl(values);
    const key = await delegationKey(expiresOn);
    const sas = generateBlobSASQueryParameters(values, key, options.blobService.accountName).toString();
    return `${blob.url}?${sas}`;
  };
}
