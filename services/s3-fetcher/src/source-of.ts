import { type SourceNameResult, sourceNameFrom } from '@logferry/shared/messages/source-name';

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
