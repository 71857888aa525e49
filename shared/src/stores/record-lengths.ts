/**
 * Record byte lengths of a staged JSON-array batch, carried on its `staged-batches` message (schema v2):
 * unsigned LEB128 varints, base64. Typical 1–3 KB records take two bytes each.
 */

export function encodeRecordLengths(lengths: readonly number[]): string {
  const out = Buffer.allocUnsafe(lengths.length * 5);
  let at = 0;
  for (const length of lengths) {
    let n = length;
    while (n >= 0x80) {
      out[at++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    out[at++] = n;
  }
  return out.toString('base64', 0, at);
}

/** undefined when the text is not a well-formed list of at most maxCount lengths (each below 2^32). */
export function decodeRecordLengths(text: string, maxCount: number): number[] | undefined {
  const bytes = Buffer.from(text, 'base64');
  const lengths: number[] = [];
  let n = 0;
  let shift = 0;
  for (const byte of bytes) {
    if (shift > 28) return undefined;
    n += (byte & 0x7f) * 2 ** shift;
    if (byte & 0x80) {
      shift += 7;
      continue;
    }
    if (lengths.length >= maxCount) return undefined;
    lengths.push(n);
    n = 0;
    shift = 0;
  }
  return shift === 0 ? lengths : undefined;
}

/** Bytes of a JSON array holding records of these lengths: `[`, the records, a comma between each two, `]`. */
export function jsonArrayBytesOf(lengths: readonly number[]): number {
  let n = 2 + Math.max(0, lengths.length - 1);
  for (const l of lengths) n += l;
  return n;
}
