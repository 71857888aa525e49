import type { S3ObjectMessage } from '@logferry/shared/messages/index';
import { type SourceNameResult, sourceNameFrom } from '@logferry/shared/messages/source-name';

/** S3 ETags arrive quoted from GetObject and unquoted in notifications; compare them bare. */
export function bareEtag(etag: string | undefined): string | undefined {
  if (etag === undefined) return undefined;
  const bare = etag.replace(/^W\//, '').replace(/^"|"$/g, '');
  return bare.length > 0 ? bare : undefined;
}

/** `bucket/key@versionId-or-etag` (DESIGN.md); undefined when the announcement carries neither. */
export function objectIdentity(
  bucket: string,
  key: string,
  versionId: string | undefined,
  etag: string | undefined,
): string | undefined {
  const version = versionId && versionId !== 'null' ? versionId : bareEtag(etag);
  return version === undefined ? undefined : `${bucket}/${key}@${version}`;
}

export function announcedIdentity(m: S3ObjectMessage): string | undefined {
  return objectIdentity(m.bucket, m.key, m.versionId, m.etag);
}

/**
 * The logical source of an object: a fixed name (default `Code42`), or the key's first path segment
 * when configured (`incydr/2024/…` → `incydr`; a key without `/` falls back to the fixed name). The
 * segment is untrusted: sanitised to the source-name alphabet, or refused (`../x.json`) with the reason.
 */
export function sourceOf(key: string, fixed: string, fromKeyPrefix: boolean): SourceNameResult {
  if (!fromKeyPrefix) return { ok: true, source: fixed };
  const slash = key.indexOf('/');
  return slash > 0 ? sourceNameFrom(key.slice(0, slash)) : { ok: true, source: fixed };
}
