const LF = 0x0a;
const CR = 0x0d;

/**
 * Byte-level line splitter: lines are slices of the input chunks (no copy) unless they span chunks,
 * in which case their pieces are joined once. A line longer than `maxLineBytes` is not buffered: its
 * bytes are skipped up to the next newline and reported, so one endless line cannot exhaust memory.
 * Line numbers are 1-based; a trailing CR (CRLF) is removed.
 */
export class LineSplitter {
  readonly #maxLineBytes: number;
  readonly #onLine: (line: Buffer, lineNumber: number) => void;
  readonly #onOversize: (lineNumber: number, bytes: number) => void;
  #pieces: Buffer[] = [];
  #pending = 0;
  #skipping = false;
  #line = 0;

  constructor(
    maxLineBytes: number,
    onLine: (line: Buffer, lineNumber: number) => void,
    onOversize: (lineNumber: number, bytes: number) => void,
  ) {
    this.#maxLineBytes = maxLineBytes;
    this.#onLine = onLine;
    this.#onOversize = onOversize;
  }

  push(chunk: Buffer): void {
    let start = 0;
    let nl = chunk.indexOf(LF);
    while (nl !== -1) {
      this.#finish(chunk, start, nl);
      start = nl + 1;
      nl = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) this.#carry(chunk.subarray(start));
  }

  /** Emits the last line when the input does not end with a newline. */
  end(): void {
    if (this.#pending > 0 || this.#skipping) this.#finish(Buffer.alloc(0), 0, 0);
  }

  #carry(rest: Buffer): void {
    this.#pending += rest.length;
    if (this.#skipping) return;
    if (this.#pending > this.#maxLineBytes) {
      this.#skipping = true;
      this.#pieces = [];
      return;
    }
    // Copy: the caller may reuse or release the chunk; a carried tail is small relative to the chunk.
    this.#pieces.push(Buffer.from(rest));
  }

  #finish(chunk: Buffer, start: number, end: number): void {
    this.#line++;
    const total = this.#pending + (end - start);
    if (this.#skipping || total > this.#maxLineBytes) {
      this.#skipping = false;
      this.#pieces = [];
      this.#pending = 0;
      this.#onOversize(this.#line, total);
      return;
    }
    let line: Buffer;
    if (this.#pieces.length === 0) {
      line = chunk.subarray(start, end);
    } else {
      this.#pieces.push(chunk.subarray(start, end));
      line = Buffer.concat(this.#pieces, total);
      this.#pieces = [];
      this.#pending = 0;
    }
    if (line.length > 0 && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    this.#onLine(line, this.#line);
  }
}
