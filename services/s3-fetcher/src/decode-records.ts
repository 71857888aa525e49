import { isUtf8 } from 'node:buffer';
import type { RouteFormat } from '@logferry/shared/routes/index';
import { CsvRowSplitter } from './csv-rows.ts';
import { DocumentError } from './document-error.ts';
import { isJsonSpace, JsonArraySplitter } from './json-array-splitter.ts';
import { nestsDeeperThan } from './json-depth.ts';
import { spacedDecoder } from './space-delimited.ts';
import { LineSplitter } from './split-lines.ts';

export type JsonRecord = Record<string, unknown>;

export interface DecodedRecord {
  readonly value: JsonRecord;
  /**
   * The record's own JSON text (one line, an object) when it can be reused verbatim, so enrichment
   * can append fields without re-serializing; undefined when the record must be serialized.
   */
  readonly raw: Buffer | undefined;
  /** 1-based: the line (NDJSON, CSV) or the element position (JSON array, Records). */
  readonly position: number;
}

export type BadRecordReason =
  | 'InvalidJson'
  | 'NotAnObject'
  | 'ColumnCount'
  | 'RecordTooLarge'
  | 'TooDeep'
  | 'UnterminatedQuote';

/** Nesting levels a record may have (objects and arrays); deeper ones are bad records (TooDeep). */
export const DEFAULT_MAX_RECORD_DEPTH = 100;
/**
 * Columns a CSV header may name: as many as a Log Analytics table holds (500; ADX allows 10,000, raise it
 * for such a route). A header of 100,000 would make every row a 100,000-field object, costing memory and
 * seconds of CPU per row.
 */
export const DEFAULT_MAX_CSV_COLUMNS = 500;

export interface BadRecord {
  readonly position: number;
  readonly reason: BadRecordReason;
  readonly detail: string;
}

export type DocumentFormat = 'ndjson' | 'json-array' | 'records' | 'csv' | 'space-delimited';

export interface DecodeOptions {
  /** Lines, elements and rows longer than this are skipped as RecordTooLarge (memory bound). */
  readonly maxRecordBytes: number;
  readonly onBadRecord: (bad: BadRecord) => void;
  readonly onFormat?: (format: DocumentFormat) => void;
  /** The route's format: `auto` (the default) sniffs; the others are taken as given. */
  readonly format?: RouteFormat;
  /** Records nested deeper are skipped as TooDeep (default DEFAULT_MAX_RECORD_DEPTH). */
  readonly maxDepth?: number;
  /** A CSV header naming more columns refuses the document (default DEFAULT_MAX_CSV_COLUMNS). */
  readonly maxColumns?: number;
}

interface Limits {
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxColumns: number;
}

export interface ChunkDecoder {
  push(chunk: Buffer): void;
  end(): void;
}

// How far into a document we look for its first key before assuming NDJSON.
const MAX_SNIFF_BYTES = 64 * 1024;

/**
 * Decodes a decompressed document into records, one array per input chunk (cheap to iterate, and
 * it keeps per-record async overhead off the hot path). The format is sniffed from the first
 * non-whitespace byte: `[` a JSON array, `{` NDJSON or a `{"Records":[…]}` document, anything else CSV.
 * Bad lines are reported through onBadRecord and skipped; an unreadable document throws DocumentError.
 */
export async function* decodeRecords(
  chunks: AsyncIterable<Buffer>,
  options: DecodeOptions,
): AsyncGenerator<DecodedRecord[]> {
  let out: DecodedRecord[] = [];
  let good = 0;
  let unreadable = 0;
  const emit = (value: unknown, raw: Buffer | undefined, position: number): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      unreadable++;
      options.onBadRecord({
        position,
        reason: 'NotAnObject',
        detail: `a record must be a JSON object, got ${kind(value)}`,
      });
      return;
    }
    good++;
    out.push({ value: value as JsonRecord, raw, position });
  };
  const bad = (position: number, reason: BadRecordReason, detail: string): void => {
    if (reason !== 'RecordTooLarge') unreadable++;
    options.onBadRecord({ position, reason, detail });
  };

  const limits: Limits = {
    maxBytes: options.maxRecordBytes,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_RECORD_DEPTH,
    maxColumns: options.maxColumns ?? DEFAULT_MAX_CSV_COLUMNS,
  };
  let decoder: ChunkDecoder | undefined;
  let head: Buffer | undefined;
  let format: DocumentFormat | undefined;
  for await (const chunk of chunks) {
    if (decoder) {
      decoder.push(chunk);
    } else {
      head = head ? Buffer.concat([head, chunk]) : chunk;
      const sniffed = decide(head, false, options.format ?? 'auto');
      if (!sniffed) {
        // Only leading whitespace is undecided this long; dropping it keeps the head bounded.
        if (head.length > MAX_SNIFF_BYTES) head = head.subarray(head.length);
        continue;
      }
      format = sniffed.format;
      options.onFormat?.(format);
      decoder = createDecoder(format, limits, emit, bad);
      decoder.push(head.subarray(sniffed.offset));
      head = undefined;
    }
    if (out.length > 0) {
      yield out;
      out = [];
    }
  }
  if (!decoder) {
    const sniffed = head ? decide(head, true, options.format ?? 'auto') : undefined;
    if (!sniffed) throw new DocumentError('InvalidDocument', 'the document is empty');
    format = sniffed.format;
    options.onFormat?.(format);
    decoder = createDecoder(format, limits, emit, bad);
    decoder.push(head!.subarray(sniffed.offset));
  }
  decoder.end();
  if (out.length > 0) yield out;
  if (good === 0 && unreadable > 0) {
    throw new DocumentError(
      'InvalidDocument',
      `no readable record in the ${describeFormat(format!)} document (${unreadable} unreadable line(s) or element(s))`,
    );
  }
}

export type Emit = (value: unknown, raw: Buffer | undefined, position: number) => void;
export type Bad = (position: number, reason: BadRecordReason, detail: string) => void;

function createDecoder(format: DocumentFormat, limits: Limits, emit: Emit, bad: Bad): ChunkDecoder {
  const { maxBytes, maxDepth } = limits;
  const tooLarge = (position: number, bytes: number) =>
    bad(position, 'RecordTooLarge', `${bytes} bytes exceed the ${maxBytes}-byte record limit`);
  if (format === 'csv') return csvDecoder(limits, emit, bad, tooLarge);
  if (format === 'space-delimited')
    return spacedDecoder(maxBytes, emit, tooLarge, (line, detail) => bad(line, 'ColumnCount', detail));
  const parse = (text: Buffer, position: number, reusable: boolean) => {
    const trimmed = trim(text);
    if (trimmed.length === 0) return;
    // Before parsing: a record too deep to re-serialize is refused alone; the rest of the object goes on.
    if (nestsDeeperThan(trimmed, maxDepth)) {
      bad(position, 'TooDeep', `nested deeper than ${maxDepth} levels (MAX_RECORD_DEPTH): ${sample(trimmed)}`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(trimmed.toString());
    } catch (err) {
      bad(position, 'InvalidJson', `${(err as Error).message}: ${sample(trimmed)}`);
      return;
    }
    // Invalid UTF-8 must not reach the sink verbatim (one bad byte fails a whole request): re-serialize,
    // which carries the replacement characters JSON.parse produced.
    emit(value, reusable && isUtf8(trimmed) ? trimmed : undefined, position);
  };
  if (format === 'ndjson') return new LineSplitter(maxBytes, (line, n) => parse(line, n, true), tooLarge);
  // Pretty-printed elements span lines; only single-line ones can be reused as NDJSON text.
  return new JsonArraySplitter(
    maxBytes,
    (element, n) => parse(element, n, element.indexOf(0x0a) === -1 && element.indexOf(0x0d) === -1),
    tooLarge,
  );
}

function csvDecoder(limits: Limits, emit: Emit, bad: Bad, tooLarge: (p: number, b: number) => void): ChunkDecoder {
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

/**
 * The document's format once the head holds enough bytes (`final`: no more will come). A route that names
 * ndjson, csv or space-delimited takes it as given; `json` still tells an array from a Records document.
 */
function decide(
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

function hasControlOrReplacement(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0xfffd) return true;
  }
  return false;
}

function trim(b: Buffer): Buffer {
  let s = 0;
  let e = b.length;
  while (s < e && isJsonSpace(b[s]!)) s++;
  while (e > s && isJsonSpace(b[e - 1]!)) e--;
  return s === 0 && e === b.length ? b : b.subarray(s, e);
}

function sample(b: Buffer): string {
  const text = b.subarray(0, 120).toString();
  return b.length > 120 ? `${text}…` : text;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function describeFormat(f: DocumentFormat): string {
  return {
    ndjson: 'NDJSON',
    'json-array': 'JSON array',
    records: 'Records',
    csv: 'CSV',
    'space-delimited': 'space-delimited',
  }[f];
}
