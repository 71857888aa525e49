/** Progress lines on stderr (stdout stays for results), at most one per `everyMs`, with a rate. */
export class Progress {
  readonly #started = Date.now();
  #last = 0;
  readonly #everyMs: number;
  readonly #write: (line: string) => void;

  constructor(everyMs = 1_000, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
    this.#everyMs = everyMs;
    this.#write = write;
  }

  /** Prints `text` (with the rate of `count`) unless a line went out less than everyMs ago; `force` prints anyway. */
  update(text: string, count?: number, force = false): void {
    const now = Date.now();
    if (!force && now - this.#last < this.#everyMs) return;
    this.#last = now;
    this.#write(count === undefined ? text : `${text} (${rate(count, now - this.#started)})`);
  }

  get elapsedMs(): number {
    return Date.now() - this.#started;
  }
}

export function rate(count: number, ms: number): string {
  return `${ms > 0 ? ((count * 1000) / ms).toFixed(1) : '0'}/s`;
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
