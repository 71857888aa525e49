import type { RouteFormat } from '@logferry/shared/routes/index';
import type { DocumentFormat } from './decode-records.ts';
import { DocumentError } from './document-error.ts';
import { isJsonSpace } from './json-array-splitter.ts';

// How far into a document we look for its first key before assuming NDJSON.
export const MAX_SNIFF_BYTES = 64 * 1024;

/**
 * The document's format once the head holds enough bytes (`final`: no more will come). A route that names
 * ndjson, csv or space-delimited takes it as given; `json` still tells an array from a Records document.
 */
export function decide(
  head: Buffer,
  final: boolean,
  format: RouteFormat,
): { format: DocumentFormat; offset: number } | undefined {
  if (format === 'auto') return sniff(head, final);
  const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  if (format !== 'json') {
    if (head.subarray(0, 4096).includes(0))
      throw new DocumentError('InvalidDocument', 'binary data, not a text document');
    return { format, offset: bom };
  }
  const sniffed = sniff(head, final);
  if (sniffed && sniffed.format !== 'json-array' && sniffed.format !== 'records') {
    throw new DocumentError(
      'InvalidDocument',
      'the route says json, but the document is neither a JSON array nor a {"Records":[…]} document',
    );
  }
  return sniffed;
}

/** Decides the format once the head holds enough bytes; `final` when no more bytes will come. */
function sniff(head: Buffer, final: boolean): { format: DocumentFormat; offset: number } | undefined {
  const bom = head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  let i = bom;
  while (i < head.length && isJsonSpace(head[i]!)) i++;
  if (i === head.length) return undefined;
  const first = head[i];
  if (first === 0x5b) return { format: 'json-array', offset: bom };
  if (first !== 0x7b) {
    if (head.subarray(0, 4096).includes(0))
      throw new DocumentError('InvalidDocument', 'binary data, not a text document');
    return { format: 'csv', offset: bom };
  }
  const records = recordsArrayOffset(head, i + 1);
  if (records === 'more') {
    if (!final && head.length < MAX_SNIFF_BYTES) return undefined;
    return { format: 'ndjson', offset: bom };
  }
  return records === 'no' ? { format: 'ndjson', offset: bom } : { format: 'records', offset: records };
}

/** After `{`: the offset just past `"Records":` when that is the first key, 'no' if another, 'more' if undecided. */
function recordsArrayOffset(head: Buffer, from: number): number | 'no' | 'more' {
  let i = from;
  while (i < head.length && isJsonSpace(head[i]!)) i++;
  if (i === head.length) return 'more';
  if (head[i] !== 0x22) return 'no';
  const key = Buffer.from('"Records"');
  const candidate = head.subarray(i, i + key.length);
  if (!key.subarray(0, candidate.length).equals(candidate)) return 'no';
  if (candidate.length < key.length) return 'more';
  i += key.length;
  while (i < head.length && isJsonSpace(head[i]!)) i++;
  if (i === head.length) return 'more';
  return head[i] === 0x3a ? i + 1 : 'no';
}
