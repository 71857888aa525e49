const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_SEEN = 3;

/**
 * Streaming RFC 4180 row splitter over bytes: quoted fields with commas, newlines and doubled quotes,
 * LF or CRLF (or CR) row ends; blank lines are skipped. Lenient where RFC 4180 is strict (a stray quote
 * inside an unquoted field is kept). Rows larger than `maxRowBytes` are skipped and reported.
 * `line` is the physical line the row starts on (1-based).
 */
export class CsvRowSplitter {
  readonly #maxRowBytes: number;
  readonly #onRow: (fields: string[], line: number) => void;
  readonly #onOversize: (line: number, bytes: number) => void;
  #state = FIELD_START;
  #fields: string[] = [];
  #pieces: Buffer[] = [];
  #rowBytes = 0;
  #oversize = false;
  #rowOpen = false;
  #rowLine = 1;
  #line = 1;
  #afterCR = false;
  /** True when the unterminated last row ended inside quotes. */
  unterminatedQuote = false;

  constructor(
    maxRowBytes: number,
    onRow: (fields: string[], line: number) => void,
    onOversize: (line: number, bytes: number) => void,
  ) {
    this.#maxRowBytes = maxRowBytes;
    this.#onRow = onRow;
    this.#onOversize = onOversize;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    let seg = this.#state === UNQUOTED || this.#state === QUOTED ? 0 : -1;
    while (i < n) {
      const state = this.#state;
      if (state === FIELD_START) {
        const b = chunk[i]!;
        if (this.#afterCR) {
          this.#afterCR = false;
          if (b === LF) {
            i++;
            continue;
          }
        }
        if (b === LF || b === CR) {
          this.#line++;
          if (b === CR) this.#afterCR = true;
          if (this.#rowOpen) {
            this.#endField();
            this.#endRow();
          }
          i++;
          continue;
        }
        if (!this.#rowOpen) {
          this.#rowOpen = true;
          this.#rowLine = this.#line;
        }
        if (b === QUOTE) {
          this.#state = QUOTED;
          seg = i + 1;
        } else if (b === COMMA) {
          this.#endField();
        } else {
          this.#state = UNQUOTED;
          seg = i;
        }
        i++;
      } else if (state === UNQUOTED) {
        let b = 0;
        while (i < n) {
          b = chunk[i]!;
          if (b === COMMA || b === LF || b === CR) break;
          i++;
        }
        if (i === n) break;
        this.#add(chunk, seg, i);
        seg = -1;
        this.#delimit(b);
        i++;
      } else if (state === QUOTED) {
        const q = chunk.indexOf(QUOTE, i);
        const stop = q === -1 ? n : q;
        for (let j = chunk.indexOf(LF, i); j !== -1 && j < stop; j = chunk.indexOf(LF, j + 1)) this.#line++;
        if (q === -1) break;
        this.#add(chunk, seg, q);
        seg = -1;
        this.#state = QUOTE_SEEN;
        i = q + 1;
      } else {
        const b = chunk[i]!;
        if (b === QUOTE) {
          // A doubled quote: the second one starts the next segment of the same field.
          this.#state = QUOTED;
          seg = i;
          i++;
        } else if (b === COMMA || b === LF || b === CR) {
          this.#delimit(b);
          i++;
        } else {
          this.#state = UNQUOTED;
          seg = i;
        }
      }
    }
    if (seg !== -1 && seg < n) this.#add(chunk, seg, n);
  }

  end(): void {
    if (this.#state === QUOTED) this.unterminatedQuote = true;
    if (this.#rowOpen) {
      this.#endField();
      this.#endRow();
    }
  }

  #delimit(b: number): void {
    this.#endField();
    this.#state = FIELD_START;
    if (b === COMMA) return;
    this.#line++;
    if (b === CR) this.#afterCR = true;
    this.#endRow();
  }

  #add(chunk: Buffer, from: number, to: number): void {
    if (to <= from) return;
    this.#rowBytes += to - from;
    if (this.#oversize) return;
    if (this.#rowBytes > this.#maxRowBytes) {
      this.#oversize = true;
      this.#pieces = [];
      this.#fields = [];
      return;
    }
    this.#pieces.push(chunk.subarray(from, to));
  }

  #endField(): void {
    this.#state = FIELD_START;
    if (this.#oversize) return;
    const p = this.#pieces;
    this.#fields.push(p.length === 0 ? '' : p.length === 1 ? p[0]!.toString() : Buffer.concat(p).toString());
    this.#pieces = [];
  }

  #endRow(): void {
    const fields = this.#fields;
    const oversize = this.#oversize;
    const bytes = this.#rowBytes;
    this.#fields = [];
    this.#pieces = [];
    this.#rowBytes = 0;
    this.#oversize = false;
    this.#rowOpen = false;
    if (oversize) this.#onOversize(this.#rowLine, bytes);
    else this.#onRow(fields, this.#rowLine);
  }
}
