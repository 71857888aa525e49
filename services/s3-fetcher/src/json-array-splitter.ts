import { DocumentError } from './document-error.ts';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

const BEFORE_ARRAY = 0;
const BEFORE_ELEMENT = 1;
const IN_ELEMENT = 2;
const AFTER_ELEMENT = 3;
const DONE = 4;

export function isJsonSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/**
 * Splits a streamed JSON array into the bytes of its elements without parsing the document: it only
 * tracks nesting depth, strings and escapes. Each element is handed over as a Buffer (slice of the
 * chunk when it fits in one); elements larger than `maxElementBytes` are skipped and reported.
 * Bytes after the closing bracket are ignored (they close an enclosing `{"Records":…}` document).
 */
export class JsonArraySplitter {
  readonly #maxElementBytes: number;
  readonly #onElement: (element: Buffer, index: number) => void;
  readonly #onOversize: (index: number, bytes: number) => void;
  #state = BEFORE_ARRAY;
  #depth = 0;
  #inString = false;
  #escape = false;
  #pieces: Buffer[] = [];
  #pending = 0;
  #skipping = false;
  #index = 0;

  constructor(
    maxElementBytes: number,
    onElement: (element: Buffer, index: number) => void,
    onOversize: (index: number, bytes: number) => void,
  ) {
    this.#maxElementBytes = maxElementBytes;
    this.#onElement = onElement;
    this.#onOversize = onOversize;
  }

  get done(): boolean {
    return this.#state === DONE;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let start = -1;
    while (i < n) {
      const state = this.#state;
      if (state === IN_ELEMENT) {
        if (start === -1) start = i;
        const end = this.#scanElement(chunk, i);
        if (end === -1) {
          this.#carry(chunk.subarray(start));
          return;
        }
        this.#complete(chunk, start, end);
        start = -1;
        i = end;
        continue;
      }
      const b = chunk[i]!;
      if (isJsonSpace(b)) {
        i++;
        continue;
      }
      if (state === DONE) return;
      if (state === BEFORE_ARRAY) {
        if (b !== OPEN_BRACKET) throw invalid(`expected '[' but found ${describe(b)}`);
        this.#state = BEFORE_ELEMENT;
        i++;
      } else if (state === BEFORE_ELEMENT) {
        if (b === CLOSE_BRACKET && this.#index === 0) {
          this.#state = DONE;
          i++;
        } else if (b === CLOSE_BRACKET || b === COMMA) {
          throw invalid(`unexpected ${describe(b)} where array element ${this.#index + 1} should start`);
        } else {
          this.#startElement(b);
          start = i;
          i++;
        }
      } else {
        if (b === COMMA) this.#state = BEFORE_ELEMENT;
        else if (b === CLOSE_BRACKET) this.#state = DONE;
        else throw invalid(`expected ',' or ']' after array element ${this.#index} but found ${describe(b)}`);
        i++;
      }
    }
    // An element that started on this chunk's last byte.
    if (this.#state === IN_ELEMENT && start !== -1) this.#carry(chunk.subarray(start));
  }

  /** Throws TruncatedDocument when the array never closed. */
  end(): void {
    if (this.#state === DONE) return;
    throw new DocumentError(
      'TruncatedDocument',
      this.#state === BEFORE_ARRAY
        ? 'the document ended before its JSON array started'
        : `the JSON array is not closed: the document ends after ${this.#index} complete element(s)`,
    );
  }

  #startElement(b: number): void {
    this.#state = IN_ELEMENT;
    this.#escape = false;
    if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      this.#depth = 1;
      this.#inString = false;
    } else if (b === QUOTE) {
      this.#depth = 0;
      this.#inString = true;
    } else {
      // A bare number/true/false/null: ends at the next delimiter.
      this.#depth = 0;
      this.#inString = false;
    }
  }

  /** Scans from i (inside an element); returns the index just past the element's end, or -1 if it goes on. */
  #scanElement(chunk: Buffer, from: number): number {
    const n = chunk.length;
    let depth = this.#depth;
    let inString = this.#inString;
    let esc = this.#escape;
    let i = from;
    for (; i < n; i++) {
      const b = chunk[i]!;
      if (inString) {
        if (esc) esc = false;
        else if (b === BACKSLASH) esc = true;
        else if (b === QUOTE) {
          inString = false;
          if (depth === 0) {
            this.#depth = 0;
            this.#inString = false;
            return i + 1;
          }
        }
      } else if (depth === 0) {
        if (b === COMMA || b === CLOSE_BRACKET || isJsonSpace(b)) {
          this.#inString = false;
          return i;
        }
      } else if (b === QUOTE) inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) {
          this.#depth = 0;
          this.#inString = false;
          return i + 1;
        }
      }
    }
    this.#depth = depth;
    this.#inString = inString;
    this.#escape = esc;
    return -1;
  }

  #carry(rest: Buffer): void {
    this.#pending += rest.length;
    if (this.#skipping) return;
    if (this.#pending > this.#maxElementBytes) {
      this.#skipping = true;
      this.#pieces = [];
      return;
    }
    this.#pieces.push(Buffer.from(rest));
  }

  #complete(chunk: Buffer, start: number, end: number): void {
    this.#state = AFTER_ELEMENT;
    this.#index++;
    const total = this.#pending + (end - start);
    const skipped = this.#skipping || total > this.#maxElementBytes;
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#pending = 0;
    this.#skipping = false;
    if (skipped) {
      this.#onOversize(this.#index, total);
      return;
    }
    if (pieces.length === 0) {
      this.#onElement(chunk.subarray(start, end), this.#index);
    } else {
      pieces.push(chunk.subarray(start, end));
      this.#onElement(Buffer.concat(pieces, total), this.#index);
    }
  }
}

function invalid(message: string): DocumentError {
  return new DocumentError('InvalidDocument', `not a valid JSON array: ${message}`);
}

function describe(b: number): string {
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}
