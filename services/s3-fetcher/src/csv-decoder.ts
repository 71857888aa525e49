import { CsvRowSplitter } from './csv-rows.ts';
import type { Bad, ChunkDecoder, Emit, JsonRecord, Limits } from './decode-records.ts';
import { DocumentError } from './document-error.ts';

/** CSV: the first row is the header (checked for plausibility), each later row one record keyed by it. */
export function csvDecoder(
  limits: Limits,
  emit: Emit,
  bad: Bad,
  tooLarge: (p: number, b: number) => void,
): ChunkDecoder {
  let header: string[] | undefined;
  const rows = new CsvRowSplitter(
    limits.maxBytes,
    (fields, line) => {
      if (!header) {
        header = checkHeader(fields, limits.maxColumns);
        return;
      }
      if (fields.length !== header.length) {
        bad(line, 'ColumnCount', `expected ${header.length} columns, got ${fields.length}`);
        return;
      }
      const record: JsonRecord = {};
      for (let i = 0; i < fields.length; i++) {
        const name = header[i]!;
        // `record.__proto__ = x` would set the prototype and drop the column: define it as a field instead.
        if (name === '__proto__') Object.defineProperty(record, name, { value: fields[i], ...OWN_FIELD });
        else record[name] = fields[i];
      }
      emit(record, undefined, line);
    },
    (line, bytes) => {
      if (!header)
        throw new DocumentError('InvalidDocument', 'not JSON, and the first CSV row is too large to be a header');
      tooLarge(line, bytes);
    },
  );
  return {
    push: (chunk) => rows.push(chunk),
    end: () => {
      rows.end();
      if (rows.unterminatedQuote) bad(0, 'UnterminatedQuote', 'the last CSV row ends inside a quoted field');
    },
  };
}

const OWN_FIELD = { enumerable: true, writable: true, configurable: true } as const;

function checkHeader(fields: string[], maxColumns: number): string[] {
  if (fields.length > maxColumns) {
    throw new DocumentError(
      'InvalidDocument',
      `the CSV header names ${fields.length} columns; at most ${maxColumns} are read (MAX_CSV_COLUMNS)`,
    );
  }
  const names = fields.map((f) => f.trim());
  const plausible =
    names.length >= 2 &&
    names.every((n) => n.length > 0 && n.length <= 256 && !hasControlOrReplacement(n)) &&
    new Set(names).size === names.length;
  if (!plausible) {
    throw new DocumentError(
      'InvalidDocument',
      'neither JSON (NDJSON, array, Records) nor CSV with a header row of at least two distinct, named columns',
    );
  }
  return names;
}

function hasControlOrReplacement(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0xfffd) return true;
  }
  return false;
}
