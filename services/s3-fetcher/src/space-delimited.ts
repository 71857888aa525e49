import type { ChunkDecoder, Emit, JsonRecord } from './decode-records.ts';
import { DocumentError } from './document-error.ts';
import { LineSplitter } from './split-lines.ts';

// The column separators: runs of spaces or tabs (VPC flow logs use one space; aligned exports use several).
const SEPARATORS = /[ \t]+/;

/**
 * Space-delimited text with a header line, as VPC flow logs write it
 * (`version account-id interface-id srcaddr … log-status`). Streaming line by line through the same bounded
 * splitter as NDJSON; `-` (the flow log's "no data") becomes null. A row with another column count is a bad
 * record, reported with its line number, like a short CSV row.
 */
export function spacedDecoder(
  maxBytes: number,
  emit: Emit,
  tooLarge: (position: number, bytes: number) => void,
  bad: (position: number, detail: string) => void,
): ChunkDecoder {
  let header: string[] | undefined;
  const lines = new LineSplitter(
    maxBytes,
    (line, n) => {
      const text = line.toString('utf8').trim();
      if (text.length === 0) return;
      const fields = text.split(SEPARATORS);
      if (!header) {
        header = checkHeader(fields);
        return;
      }
      if (fields.length !== header.length) {
        bad(n, `expected ${header.length} columns, got ${fields.length}`);
        return;
      }
      const record: JsonRecord = {};
      for (let i = 0; i < fields.length; i++) record[header[i]!] = fields[i] === '-' ? null : fields[i];
      emit(record, undefined, n);
    },
    (n, bytes) => {
      if (!header) throw new DocumentError('InvalidDocument', 'the first line is too large to be a header');
      tooLarge(n, bytes);
    },
  );
  return { push: (chunk) => lines.push(chunk), end: () => lines.end() };
}

function checkHeader(names: string[]): string[] {
  const plausible =
    names.length >= 2 &&
    names.every((n) => n.length <= 256 && /^[\p{L}\p{N}_.:@$-]+$/u.test(n)) &&
    new Set(names).size === names.length;
  if (!plausible) {
    throw new DocumentError(
      'InvalidDocument',
      'space-delimited text needs a header line of at least two distinct column names (letters, digits, _ . : @ $ -)',
    );
  }
  return names;
}
