import { isUtf8 } from 'node:buffer';
import type { RouteFormat } from '@logferry/shared/routes/index';
import { csvDecoder } from './csv-decoder.ts';
import { DocumentError } from './document-error.ts';
import { isJsonSpace, JsonArraySplitter } from './json-array-splitter.ts';
import { nestsDeeperThan } from './json-depth.ts';
import { createLineScanner, type LineScanPlan, ScannedRecord } from './scan-json-line.ts';
import { decide, MAX_SNIFF_BYTES } from './sniff-format.ts';
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
  /**
   * Set when the record passed the line scan (DecodeOptions.scan) instead of JSON.parse: a planned top-level
   * field's value. `raw` is then set, and the object has a key and none of the plan's parseIf fields.
   */
  field?(name: string): unknown;
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
  /** JSON lines that pass a strict byte scan skip JSON.parse; their planned fields are read with `field`. */
  readonly scan?: LineScanPlan;
}

export interface Limits {
  readonly scan: { readonly plan: LineScanPlan; readonly accept: (record: DecodedRecord) => void } | undefined;
  readonly maxBytes: number;
  readonly maxDepth: number;
  readonly maxColumns: number;
}

export interface ChunkDecoder {
  push(chunk: Buffer): void;
  end(): void;
}

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
    accept({ value: value as JsonRecord, raw, position });
  };
  const accept = (record: DecodedRecord): void => {
    good++;
    out.push(record);
  };
  const bad = (position: number, reason: BadRecordReason, detail: string): void => {
    if (reason !== 'RecordTooLarge') unreadable++;
    options.onBadRecord({ position, reason, detail });
  };

  const limits: Limits = {
    scan: options.scan && { plan: options.scan, accept },
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
  const { maxBytes, maxDepth, scan } = limits;
  const tooLarge = (position: number, bytes: number) =>
    bad(position, 'RecordTooLarge', `${bytes} bytes exceed the ${maxBytes}-byte record limit`);
  if (format === 'csv') return csvDecoder(limits, emit, bad, tooLarge);
  if (format === 'space-delimited')
    return spacedDecoder(maxBytes, emit, tooLarge, (line, detail) => bad(line, 'ColumnCount', detail));
  const scanLine = scan && createLineScanner(scan.plan);
  const parse = (text: Buffer, position: number, reusable: boolean) => {
    const trimmed = trim(text);
    if (trimmed.length === 0) return;
    // Before parsing: a record too deep to re-serialize is refused alone; the rest of the object goes on.
    if (nestsDeeperThan(trimmed, maxDepth)) {
      bad(position, 'TooDeep', `nested deeper than ${maxDepth} levels (MAX_RECORD_DEPTH): ${sample(trimmed)}`);
      return;
    }
    const spans = reusable ? scanLine?.(trimmed) : undefined;
    if (spans) {
      scan!.accept(new ScannedRecord(trimmed, position, scan!.plan.read, spans));
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
