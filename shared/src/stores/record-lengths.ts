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

/** Records `start` (inclusive) to `end` (exclusive) of a batch. */
export interface RecordSpan {
  readonly start: number;
  readonly end: number;
}

/** Bytes of the records in the span (all by default), without separators. */
export function recordBytesOf(
  lengths: readonly number[],
  span: RecordSpan = { start: 0, end: lengths.length },
): number {
  let n = 0;
  for (let i = span.start; i < span.end; i++) n += lengths[i] ?? 0;
  return n;
}

/**
 * Bytes of a JSON array holding the records in the span (all by default): `[`, the records, a comma between
 * each two, `]`. The one computation of a request body's size, for s3-fetcher's batches and la-uploader's requests.
 */
export function jsonArrayBytesOf(
  lengths: readonly number[],
  span: RecordSpan = { start: 0, end: lengths.length },
): number {
  return 2 + Math.max(0, span.end - span.start - 1) + recordBytesOf(lengths, span);
}
