import { gunzipSync } from 'node:zlib';
import { convertValue, type Row } from './catalog.ts';
import type { ColumnDef, MappingColumn } from './kql.ts';

/** A failure ADX would report, with its error code and permanence. */
export class IngestError extends Error {
  readonly code: string;
  readonly permanent: boolean;
  constructor(code: string, message: string, permanent = true) {
    super(message);
    this.name = 'IngestError';
    this.code = code;
    this.permanent = permanent;
  }
}

const SEPARATORS: Record<string, string> = { csv: ',', tsv: '\t', tsve: '\t', psv: '|', scsv: ';', sohsv: '\u0001' };
const JSON_FORMATS = new Set(['json', 'multijson', 'singlejson']);

export function isSupportedFormat(format: string): boolean {
  return format in SEPARATORS || JSON_FORMATS.has(format);
}

/** gzip is recognised by the .gz name (as ADX does) or by its magic bytes; output bounded against gzip bombs. */
export function decompress(data: Buffer, path: string, maxBytes: number): Buffer {
  const gz = path.toLowerCase().endsWith('.gz') || (data[0] === 0x1f && data[1] === 0x8b);
  if (!gz) return data;
  try {
    return gunzipSync(data, { maxOutputLength: maxBytes });
  } catch (error) {
    const tooLarge = (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new IngestError(
      tooLarge ? 'Stream_InputStreamTooLarge' : 'BadRequest_InvalidBlob',
      tooLarge ? `decompressed data exceeds ${maxBytes} bytes` : `corrupt gzip: ${(error as Error).message}`,
    );
  }
}

export interface ParseOptions {
  readonly format: string;
  readonly columns: readonly ColumnDef[];
  /** Undefined: map by ordinal (delimited) or by column name (JSON), as ADX does without a mapping. */
  readonly mapping: readonly MappingColumn[] | undefined;
  readonly ignoreFirstRecord: boolean;
}

export function parseRows(text: string, options: ParseOptions): Row[] {
  const separator = SEPARATORS[options.format];
  const rows = separator !== undefined ? parseDelimited(text, separator, options) : parseJson(text, options);
  if (rows.length === 0) throw new IngestError('BadRequest_NoRecordsOrWrongFormat', 'the blob holds no records');
  return rows;
}

function parseDelimited(text: string, separator: string, options: ParseOptions): Row[] {
  const records = splitDelimited(text, separator);
  if (options.ignoreFirstRecord) records.shift();
  const mapping = options.mapping ?? options.columns.map((c, ordinal) => ({ column: c.name, ordinal }));
  const width = records[0]?.length ?? 0;
  const needed = Math.max(...mapping.map((m) => (m.ordinal ?? -1) + 1));
  return records.map((fields, index) => {
    if (fields.length !== width || fields.length < needed) {
      throw new IngestError(
        'Stream_WrongNumberOfFields',
        `record ${index + 1} has ${fields.length} fields; expected ${Math.max(width, needed)}`,
      );
    }
    return toRow(options.columns, mapping, (m) => (m.ordinal === undefined ? undefined : fields[m.ordinal]));
  });
}

/** RFC 4180: quoted fields may hold separators, quotes ("") and newlines. Empty lines are skipped. */
export function splitDelimited(text: string, separator: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  const endRecord = () => {
    if (fieldStarted || fields.length > 0 || field !== '') {
      fields.push(field);
      records.push(fields);
    }
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
    } else if (c === separator) {
      fields.push(field);
      field = '';
      fieldStarted = true;
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRecord();
    } else {
      field += c;
      fieldStarted = true;
    }
  }
  if (quoted) throw new IngestError('BadRequest_InvalidBlob', 'unterminated quoted field');
  endRecord();
  return records;
}

function parseJson(text: string, options: ParseOptions): Row[] {
  let documents: unknown[];
  if (options.format === 'json') {
    // ADX's json format: one document per line; malformed lines are dropped silently.
    documents = text
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as unknown];
        } catch {
          return [];
        }
      });
  } else if (options.format === 'singlejson') {
    documents = [parseStrict(text)];
  } else {
    documents = splitConcatenatedJson(text);
  }
  const mapping = options.mapping ?? options.columns.map((c) => ({ column: c.name, path: `$.${c.name}` }));
  return documents.map((doc) =>
    toRow(options.columns, mapping, (m) => (m.path === undefined ? undefined : readPath(doc, m.path))),
  );
}

function parseStrict(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new IngestError('BadRequest_InvalidBlob', `malformed JSON: ${(error as Error).message}`);
  }
}

/** multijson: a top-level array of objects, or objects one after another (pretty-printed or not). */
export function splitConcatenatedJson(text: string): unknown[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    const parsed = parseStrict(trimmed);
    return Array.isArray(parsed) ? parsed : [parsed];
  }
  const out: unknown[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i] ?? '')) i++;
    if (i >= text.length) break;
    if (text[i] !== '{') throw new IngestError('BadRequest_InvalidBlob', `malformed JSON at offset ${i}`);
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) break;
    }
    if (depth !== 0) throw new IngestError('BadRequest_InvalidBlob', 'malformed JSON: unterminated object');
    out.push(parseStrict(text.slice(start, ++i)));
  }
  return out;
}

/** `$`, `$.a.b`, `$['a b'].c`, `$.list[0]`. */
export function readPath(doc: unknown, path: string): unknown {
  const parts = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[['"]([^'"]+)['"]\]|\[(\d+)\]/g)].map(
    (m) => m[1] ?? m[2] ?? Number(m[3]),
  );
  let current: unknown = doc;
  for (const part of parts) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function toRow(
  columns: readonly ColumnDef[],
  mapping: readonly MappingColumn[],
  read: (m: MappingColumn) => unknown,
): Row {
  const row: Row = Object.fromEntries(columns.map((c) => [c.name, null]));
  for (const m of mapping) {
    const column = columns.find((c) => c.name === m.column);
    if (!column)
      throw new IngestError('BadRequest_InvalidMapping', `mapping names column ${m.column}, which the table lacks`);
    row[m.column] = convertValue(m.constValue ?? read(m), column.type);
  }
  return row;
}
