/**
 * An S3 object's identity, `bucket/key@versionId-or-etag` (DESIGN.md), the one computation every
 * producer uses (sqs-poller's announcements, the CLI's backfill, s3-fetcher's dedup and batch ids):
 * redelivery dedup holds only while they agree.
 */
export interface S3ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId?: string | undefined;
  readonly etag?: string | undefined;
}

/** S3 ETags arrive quoted from GetObject and ListObjects and unquoted in notifications; compare them bare. */
export function bareEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const bare = etag.replace(/^W\//, '').replace(/^"|"$/g, '');
  return bare.length > 0 ? bare : undefined;
}

/** S3 reports an unversioned object's version as the string `null` (or leaves it empty): no version. */
export function realVersionId(versionId: string | undefined): string | undefined {
  return versionId && versionId !== 'null' ? versionId : undefined;
}

/** The identity; undefined when the object is known by neither a version id nor an ETag. */
export function objectIdentity(ref: S3ObjectRef): string | undefined {
  const version = realVersionId(ref.versionId) ?? bareEtag(ref.etag);
  return version === undefined ? undefined : `${ref.bucket}/${ref.key}@${version}`;
}

/** The identity, or `bucket/key@` for an object known by neither (ids derived from it stay stable). */
export function objectIdentityOrKey(ref: S3ObjectRef): string {
  return objectIdentity(ref) ?? `${ref.bucket}/${ref.key}@`;
}
