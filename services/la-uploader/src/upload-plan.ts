import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import type { RecordRange } from '@logferry/shared/stores/batch-status';
import type { StagedRecords } from './staged-batch-reader.ts';

/** Record indexes in [0, count) not covered by the ranges already uploaded. */
export function pendingRanges(count: number, uploaded: readonly RecordRange[]): RecordRange[] {
  const sorted = [...uploaded].sort((a, b) => a.start - b.start);
  const out: RecordRange[] = [];
  let cursor = 0;
  for (const r of sorted) {
    const start = Math.max(0, Math.min(r.start, count));
    const end = Math.max(0, Math.min(r.end, count));
    if (start > cursor) out.push({ start: cursor, end: start });
    cursor = Math.max(cursor, end);
  }
  if (cursor < count) out.push({ start: cursor, end: count });
  return out;
}

/**
 * Cuts ranges into consecutive requests whose JSON body stays within maxBytes. A record that alone
 * exceeds maxBytes gets a request of its own (the caller refuses records over the API's hard limit).
 */
export function chunkRanges(
  lineBytes: readonly number[],
  ranges: readonly RecordRange[],
  maxBytes: number,
): RecordRange[] {
  const out: RecordRange[] = [];
  for (const range of ranges) {
    let start = range.start;
    let size = 2;
    for (let i = range.start; i < range.end; i++) {
      const add = (lineBytes[i] ?? 0) + (i > start ? 1 : 0);
      if (i > start && size + add > maxBytes) {
        out.push({ start, end: i });
        start = i;
        size = 2 + (lineBytes[i] ?? 0);
      } else {
        size += add;
      }
    }
    if (range.end > start) out.push({ start, end: range.end });
  }
  return out;
}

/** Halves a range (after a 413); a single record cannot be split. */
export function halve(range: RecordRange): [RecordRange, RecordRange] | undefined {
  if (range.end - range.start < 2) return undefined;
  const mid = range.start + Math.floor((range.end - range.start) / 2);
  return [
    { start: range.start, end: mid },
    { start: mid, end: range.end },
  ];
}

const gzip = promisify(gzipCallback);
const OPEN = Buffer.from('[');
const CLOSE = Buffer.from(']');

/**
 * The gzip request body for a range of the batch's records. The whole batch, staged as one request body,
 * goes as it is stored (the common case: nothing is inflated, parsed or compressed here); a part of it
 * (after a 413, when resuming, or when the batch is larger than a request may be) is cut from the
 * inflated array at the records' byte offsets and gzipped at the fastest level.
 */
export function requestBodies(records: StagedRecords): (range: RecordRange) => Promise<Buffer> {
  let starts: number[] | undefined;
  return async (range) => {
    const { lengths } = records;
    if (records.whole && range.start === 0 && range.end === lengths.length) return records.whole;
    const array = await records.array();
    starts ??= recordStarts(lengths);
    const from = starts[range.start] as number;
    const to = (starts[range.end - 1] as number) + (lengths[range.end - 1] as number);
    return gzip(Buffer.concat([OPEN, array.subarray(from, to), CLOSE]), { level: 1 });
  };
}

/** Offset of each record in `[r0,r1,…]`. */
function recordStarts(lengths: readonly number[]): number[] {
  const starts = new Array<number>(lengths.length);
  let at = 1;
  for (let i = 0; i < lengths.length; i++) {
    starts[i] = at;
    at += (lengths[i] as number) + 1;
  }
  return starts;
}
