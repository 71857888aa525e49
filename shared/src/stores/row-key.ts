import { createHash } from 'node:crypto';

// Azure Tables keys may not contain / \ # ? or control characters and are limited to 1 KiB.
// encodeURIComponent removes all of those while staying readable for operators in Storage Explorer;
// '%' itself is allowed. Names whose encoding would not fit are keyed by a hash (the row keeps the name).
const MAX_KEY_CHARS = 512;

export function encodeRowKey(name: string): string {
  const encoded = encodeURIComponent(name).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  if (encoded.length <= MAX_KEY_CHARS) return encoded;
  return `sha256~${createHash('sha256').update(name).digest('hex')}`;
}

/** The inverse of encodeRowKey for keys that are not hashes; hashed keys return undefined. */
export function decodeRowKey(key: string): string | undefined {
  return key.startsWith('sha256~') ? undefined : decodeURIComponent(key);
}
