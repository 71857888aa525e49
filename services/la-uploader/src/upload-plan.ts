import type { RecordRange } from '@logferry/shared/stores/batch-status';
import { toJsonArray } from '@logferry/shared/stores/staging';

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

/** UTF-8 size of `[` + lines.join(',') + `]` for the lines in range. */
export function bodySize(lineBytes: readonly number[], range: RecordRange): number {
  let size = 2 + Math.max(0, range.end - range.start - 1);
  for (let i = range.start; i < range.end; i++) size += lineBytes[i] ?? 0;
  return size;
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

export function buildBody(lines: readonly Buffer[], range: RecordRange): Buffer {
  return toJsonArray(lines.slice(range.start, range.end));
}
