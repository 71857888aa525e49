/**
 * Which S3 objects the services may read. Anyone who can write to the SQS queue (or forge an
 * s3-objects message) could otherwise point us at any bucket our AWS role can reach, so every
 * announced object is checked against configuration before it is fetched.
 */
export interface S3AllowList {
  check(bucket: string, key: string): S3AllowVerdict;
}

export type S3AllowVerdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: S3RefusalReason };

/** Why an object is not read: outside S3_ALLOWED_BUCKETS / S3_ALLOWED_PREFIXES, or claimed by no (or two) routes. */
export type S3RefusalReason = 'bucket-not-allowed' | 'prefix-not-allowed' | 'no-route' | 'ambiguous-route';

export interface S3AllowListConfig {
  readonly S3_ALLOWED_BUCKETS: readonly string[];
  readonly S3_ALLOWED_PREFIXES: readonly string[];
}

export function createS3AllowList(config: S3AllowListConfig): S3AllowList {
  // An empty bucket list is refused at config time; guard here too so a hand-built config fails closed.
  const buckets = new Set(config.S3_ALLOWED_BUCKETS);
  const prefixes = [...config.S3_ALLOWED_PREFIXES];
  return {
    check(bucket, key) {
      if (!buckets.has(bucket)) return { allowed: false, reason: 'bucket-not-allowed' };
      if (prefixes.length > 0 && !prefixes.some((p) => key.startsWith(p))) {
        return { allowed: false, reason: 'prefix-not-allowed' };
      }
      return { allowed: true };
    },
  };
}
