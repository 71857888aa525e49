/**
 * A source name: the first folder of every staged blob and the key of mappings.json routing. One fixed
 * alphabet, so a name can never be a path segment such as `..` or carry a separator: letters, digits, `_`
 * and `-`, starting with a letter or digit, at most 64 characters.
 */
export const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export type SourceNameResult =
  | { readonly ok: true; readonly source: string }
  | { readonly ok: false; readonly problem: string };

/**
 * A source name from untrusted text (an object key's first segment): characters outside the alphabet become
 * `_`; what still is no source name (`..` → `__`, an empty or over-long segment) is refused with the reason.
 */
export function sourceNameFrom(raw: string): SourceNameResult {
  if (raw.length > 64)
    return { ok: false, problem: `${JSON.stringify(raw.slice(0, 64))}… is longer than 64 characters` };
  const source = raw.replace(/[^A-Za-z0-9_-]/g, '_');
  if (!SOURCE_NAME.test(source)) {
    return {
      ok: false,
      problem: `${JSON.stringify(raw)} yields no source name (letters, digits, _ and -, starting with a letter or digit)`,
    };
  }
  return { ok: true, source };
}
