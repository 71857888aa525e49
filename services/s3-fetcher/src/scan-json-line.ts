import { isUtf8 } from 'node:buffer';
import type { JsonRecord } from './decode-records.ts';

/** What a line scan looks for among a record's top-level keys. */
export interface LineScanPlan {
  /** Keys whose values are wanted (parsed from their own bytes; the last one wins, as in JSON.parse). */
  readonly read: readonly string[];
  /** Keys whose presence means the caller needs the whole object: such a line is left to JSON.parse. */
  readonly parseIf: readonly string[];
}

/**
 * Returns a scan of one trimmed JSON line: where the planned fields' values lie, as [index in plan.read,
 * start, end, …], when the line is a JSON object valid by RFC 8259 to the byte; undefined when the line must go
 * to JSON.parse instead. It never rejects: anything invalid or unusual (not an object, invalid UTF-8, an escaped
 * or a parseIf key, an empty object, absurd nesting) is left to JSON.parse, so bad lines keep its verdict and
 * its message. It exists because JSON.parse builds every string and object of a record that is then written
 * back verbatim; the values are parsed only when read (ScannedRecord.field).
 */
export function createLineScanner(plan: LineScanPlan): (line: Buffer) => number[] | undefined {
  // A `__proto__` field read into an object would set its prototype: such a plan always takes JSON.parse.
  if ([...plan.read, ...plan.parseIf].includes('__proto__')) return () => undefined;
  const wanted = [...plan.read.map((name) => key(name, true)), ...plan.parseIf.map((name) => key(name, false))];
  const starts: number[] = new Array(wanted.length);
  const ends: number[] = new Array(wanted.length);
  return (line) => {
    if (line[0] !== OPEN_OBJECT || !isUtf8(line)) return undefined;
    starts.fill(-1);
    if (scanTopObject(line, wanted, starts, ends) !== line.length) return undefined;
    const spans: number[] = [];
    for (let k = 0; k < wanted.length; k++) {
      if (starts[k] === -1) continue;
      if (!wanted[k]!.read) return undefined;
      spans.push(k, starts[k]!, ends[k]!);
    }
    return spans;
  };
}

/** A record that passed the line scan: its text is written as it is, and only planned fields are parsed. */
export class ScannedRecord {
  readonly raw: Buffer;
  readonly position: number;
  readonly #names: readonly string[];
  readonly #spans: readonly number[];
  #value: JsonRecord | undefined;

  constructor(raw: Buffer, position: number, names: readonly string[], spans: readonly number[]) {
    this.raw = raw;
    this.position = position;
    this.#names = names;
    this.#spans = spans;
  }

  /** The whole record, parsed on first use (the enricher's verbatim path never needs it). */
  get value(): JsonRecord {
    this.#value ??= JSON.parse(this.raw.toString()) as JsonRecord;
    return this.#value;
  }

  /** A top-level field named in the plan's `read` (undefined when absent, as on the parsed object). */
  field(name: string): unknown {
    const spans = this.#spans;
    for (let s = 0; s < spans.length; s += 3) {
      if (this.#names[spans[s]!] === name) return JSON.parse(this.raw.toString('utf8', spans[s + 1], spans[s + 2]));
    }
    return undefined;
  }
}

interface WantedKey {
  readonly name: string;
  readonly bytes: Buffer;
  readonly read: boolean;
}

function key(name: string, read: boolean): WantedKey {
  return { name, bytes: Buffer.from(name), read };
}

const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;
/** Deeper than this the scan gives up (JSON.parse and the depth check decide); far above any real record. */
const MAX_SCAN_DEPTH = 512;
const FAIL = -1;

// Set by scanString: whether the string just scanned held an escape (an escaped key is left to JSON.parse).
let sawEscape = false;

/** The index just past the top-level object with the wanted keys' value spans recorded, or FAIL. */
function scanTopObject(b: Buffer, wanted: readonly WantedKey[], starts: number[], ends: number[]): number {
  let i = skipSpace(b, 1);
  if (b[i] === CLOSE_OBJECT) return FAIL; // {} : the caller's empty-object handling needs the parsed value
  for (;;) {
    if (b[i] !== QUOTE) return FAIL;
    const keyStart = i + 1;
    i = scanString(b, i);
    if (i === FAIL || sawEscape) return FAIL;
    const keyEnd = i - 1;
    i = skipSpace(b, i);
    if (b[i] !== COLON) return FAIL;
    const valueStart = skipSpace(b, i + 1);
    i = scanValue(b, valueStart, 1);
    if (i === FAIL) return FAIL;
    const length = keyEnd - keyStart;
    for (let k = 0; k < wanted.length; k++) {
      if (sameBytes(b, keyStart, length, wanted[k]!.bytes)) {
        starts[k] = valueStart;
        ends[k] = i;
      }
    }
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    if (b[i] !== CLOSE_OBJECT) return FAIL;
    return skipSpace(b, i + 1);
  }
}

function scanValue(b: Buffer, i: number, depth: number): number {
  const c = b[i];
  if (c === QUOTE) return scanString(b, i);
  if (c === OPEN_OBJECT) return scanObject(b, i, depth + 1);
  if (c === OPEN_ARRAY) return scanArray(b, i, depth + 1);
  if (c === 0x74) return literal(b, i, TRUE);
  if (c === 0x66) return literal(b, i, FALSE);
  if (c === 0x6e) return literal(b, i, NULL);
  return scanNumber(b, i);
}

function scanObject(b: Buffer, i: number, depth: number): number {
  if (depth > MAX_SCAN_DEPTH) return FAIL;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_OBJECT) return i + 1;
  for (;;) {
    if (b[i] !== QUOTE) return FAIL;
    i = scanString(b, i);
    if (i === FAIL) return FAIL;
    i = skipSpace(b, i);
    if (b[i] !== COLON) return FAIL;
    i = scanValue(b, skipSpace(b, i + 1), depth);
    if (i === FAIL) return FAIL;
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    return b[i] === CLOSE_OBJECT ? i + 1 : FAIL;
  }
}

function scanArray(b: Buffer, i: number, depth: number): number {
  if (depth > MAX_SCAN_DEPTH) return FAIL;
  i = skipSpace(b, i + 1);
  if (b[i] === CLOSE_ARRAY) return i + 1;
  for (;;) {
    i = scanValue(b, i, depth);
    if (i === FAIL) return FAIL;
    i = skipSpace(b, i);
    if (b[i] === COMMA) {
      i = skipSpace(b, i + 1);
      continue;
    }
    return b[i] === CLOSE_ARRAY ? i + 1 : FAIL;
  }
}

/** From the opening quote to just past the closing one; control characters and bad escapes FAIL. */
function scanString(b: Buffer, i: number): number {
  sawEscape = false;
  const end = b.length;
  i++;
  while (i < end) {
    while (PLAIN[b[i]!] === 1) i++;
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c !== BACKSLASH) return FAIL; // a control character, or the end of the line
    sawEscape = true;
    const e = b[i + 1];
    if (e === 0x75) {
      if (!isHex(b[i + 2]) || !isHex(b[i + 3]) || !isHex(b[i + 4]) || !isHex(b[i + 5])) return FAIL;
      i += 6;
    } else if (e !== undefined && SIMPLE_ESCAPES[e] === 1) {
      i += 2;
    } else {
      return FAIL;
    }
  }
  return FAIL;
}

// Bytes that stand for themselves inside a string: all but control characters, `"` and `\` (UTF-8 is checked whole).
const PLAIN = new Uint8Array(256).fill(1, 0x20);
PLAIN[QUOTE] = 0;
PLAIN[BACKSLASH] = 0;

// `"`, `\`, `/`, b, f, n, r, t
const SIMPLE_ESCAPES = new Uint8Array(128);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPES[c.charCodeAt(0)] = 1;

function sameBytes(b: Buffer, start: number, length: number, name: Buffer): boolean {
  if (name.length !== length) return false;
  for (let k = 0; k < length; k++) if (b[start + k] !== name[k]) return false;
  return true;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}

/** RFC 8259: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — no leading zeros, no bare dot, no sign but minus. */
function scanNumber(b: Buffer, i: number): number {
  if (b[i] === MINUS) i++;
  if (b[i] === ZERO) i++;
  else if (isDigit(b[i])) i = skipDigits(b, i);
  else return FAIL;
  if (b[i] === DOT) {
    if (!isDigit(b[i + 1])) return FAIL;
    i = skipDigits(b, i + 1);
  }
  const e = b[i];
  if (e === 0x65 || e === 0x45) {
    i++;
    if (b[i] === PLUS || b[i] === MINUS) i++;
    if (!isDigit(b[i])) return FAIL;
    i = skipDigits(b, i);
  }
  return i;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function skipDigits(b: Buffer, i: number): number {
  while (isDigit(b[i])) i++;
  return i;
}

const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const NULL = Buffer.from('null');

function literal(b: Buffer, i: number, word: Buffer): number {
  for (let k = 1; k < word.length; k++) if (b[i + k] !== word[k]) return FAIL;
  return i + word.length;
}

function skipSpace(b: Buffer, i: number): number {
  for (;;) {
    const c = b[i];
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}
