/** What fault injection can answer: throttling, outages, size, and the refusals of a misconfigured client. */
export const FAULT_STATUSES = [429, 500, 503, 413, 400, 401, 403, 404] as const;

/** A fault the stand-in answers instead of accepting, for the next `count` matching requests. */
export interface LogsIngestionFault {
  /** Only requests to this stream; every stream when omitted. */
  readonly stream?: string;
  readonly status: (typeof FAULT_STATUSES)[number];
  readonly count: number;
  /** Sent as `Retry-After` (seconds) on 429 and 503. */
  readonly retryAfterSeconds?: number;
}

export interface RequestLogEntry {
  readonly stream: string;
  readonly immutableId: string;
  readonly status: number;
  /** Body bytes as sent (compressed when gzip). */
  readonly bodyBytes: number;
  readonly gzip: boolean;
  /** Records accepted by this request (0 when refused). */
  readonly records: number;
  /** When the request was answered (ms since the epoch). */
  readonly at: number;
}

export interface StreamStats {
  readonly stream: string;
  /** Every request that reached this stream's route, whatever the answer. */
  readonly requests: number;
  /** Requests answered 204. */
  readonly accepted: number;
  readonly recordCount: number;
  /** Count of answers by status code. */
  readonly statuses: Readonly<Record<string, number>>;
  /** When the first and last accepted requests were answered (ms since the epoch), for throughput figures. */
  readonly firstAcceptedAt: number | undefined;
  readonly lastAcceptedAt: number | undefined;
}

interface StreamState {
  readonly records: unknown[];
  readonly log: RequestLogEntry[];
  recordCount: number;
}

/** What the stand-in received, per stream, plus the pending faults. Memory grows with what tests send. */
export class IngestionState {
  readonly #keepRecords: boolean;
  #streams = new Map<string, StreamState>();
  #faults: { fault: LogsIngestionFault; remaining: number }[] = [];
  #listeners = new Set<() => void>();
  /** Added before every answer: a slow sink, so concurrent work overlaps in tests. */
  latencyMs = 0;

  /**
   * keepRecords false: count only (benchmarks send more than memory should hold, and parsing every body
   * would make the sink the biggest consumer of CPU in the figure): bodies are counted, not parsed.
   */
  constructor(options: { keepRecords?: boolean } = {}) {
    this.#keepRecords = options.keepRecords ?? true;
  }

  get keepRecords(): boolean {
    return this.#keepRecords;
  }

  setFaults(faults: readonly LogsIngestionFault[]): void {
    this.#faults = faults.map((fault) => ({ fault, remaining: fault.count }));
  }

  /** Consumes one use of the first fault that matches the stream, if any. */
  takeFault(stream: string): LogsIngestionFault | undefined {
    const hit = this.#faults.find(
      (f) => f.remaining > 0 && (f.fault.stream === undefined || f.fault.stream === stream),
    );
    if (!hit) return undefined;
    hit.remaining -= 1;
    return hit.fault;
  }

  pendingFaults(): number {
    return this.#faults.reduce((n, f) => n + f.remaining, 0);
  }

  /** `entry.records` is what the request carried; `records` the records themselves when they are kept. */
  record(entry: RequestLogEntry, records: readonly unknown[] = []): void {
    const s = this.#stream(entry.stream);
    s.log.push(entry);
    s.recordCount += entry.status === 204 ? entry.records : 0;
    if (this.#keepRecords) for (const r of records) s.records.push(r);
    for (const listener of this.#listeners) listener();
  }

  records(stream: string): unknown[] {
    return [...(this.#streams.get(stream)?.records ?? [])];
  }

  requestLog(stream: string): RequestLogEntry[] {
    return [...(this.#streams.get(stream)?.log ?? [])];
  }

  streams(): string[] {
    return [...this.#streams.keys()].sort();
  }

  stats(stream: string): StreamStats {
    const s = this.#streams.get(stream);
    const statuses: Record<string, number> = {};
    let firstAcceptedAt: number | undefined;
    let lastAcceptedAt: number | undefined;
    for (const e of s?.log ?? []) {
      statuses[e.status] = (statuses[e.status] ?? 0) + 1;
      if (e.status === 204) {
        firstAcceptedAt ??= e.at;
        lastAcceptedAt = e.at;
      }
    }
    return {
      stream,
      requests: s?.log.length ?? 0,
      accepted: statuses['204'] ?? 0,
      recordCount: s?.recordCount ?? 0,
      statuses,
      firstAcceptedAt,
      lastAcceptedAt,
    };
  }

  reset(): void {
    this.#streams.clear();
    this.#faults = [];
  }

  /** Resolves once pred() holds after some request, or rejects after timeoutMs. */
  waitFor(pred: () => boolean, timeoutMs: number): Promise<void> {
    if (pred()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = () => {
        if (!pred()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`logs-ingestion stand-in: condition not met within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  #stream(stream: string): StreamState {
    let s = this.#streams.get(stream);
    if (!s) {
      s = { records: [], log: [], recordCount: 0 };
      this.#streams.set(stream, s);
    }
    return s;
  }
}
