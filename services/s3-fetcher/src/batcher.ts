import type { SerializedRecord } from './enrich.ts';

export interface BatchLimits {
  /** Upper bound of the batch as a JSON array (`[` + records joined by `,` + `]`), in bytes. */
  readonly maxBytes: number;
  readonly maxRecords: number;
}

export interface Batch {
  readonly index: number;
  /** The JSON array `[r0,r1,…]`: the Logs Ingestion request body as it will be sent. A view of `buffer`. */
  readonly body: Buffer;
  /** The pooled buffer behind `body`; give it back with Batcher.release once the batch is written. */
  readonly buffer: Buffer;
  readonly recordCount: number;
  /** Byte length of each record in `body`, in order (what la-uploader needs to split without parsing). */
  readonly recordLengths: readonly number[];
}

const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;

/**
 * Groups serialized records into batches under both limits, copying each record into one buffer per
 * batch as the JSON array the API takes, so the staged blob is the request body itself. Copying at once
 * lets the decompressed chunks die young, and reusing the buffers of written batches keeps the
 * allocation rate, and so the heap, flat. Batch boundaries depend only on the records and the limits,
 * which keeps batch indexes (and so batch ids) stable when an object is processed again.
 */
export class Batcher {
  readonly #limits: BatchLimits;
  readonly #free: Buffer[] = [];
  #index = 0;
  #buffer: Buffer | undefined;
  /** Bytes written so far, `[` included, `]` not yet. */
  #used = 0;
  #lengths: number[] = [];

  constructor(limits: BatchLimits) {
    this.#limits = limits;
  }

  /** True when the record could never be uploaded, even alone. */
  tooLarge(record: SerializedRecord): boolean {
    return record.bytes + 2 > this.#limits.maxBytes;
  }

  /** Adds a record that is not tooLarge; returns the batch it closed, if adding it closed one. */
  add(record: SerializedRecord): Batch | undefined {
    let closed: Batch | undefined;
    const count = this.#lengths.length;
    // With the record, its comma and the closing `]`.
    if (count > 0 && (count >= this.#limits.maxRecords || this.#used + 1 + record.bytes + 1 > this.#limits.maxBytes)) {
      closed = this.#close();
    }
    const buffer = this.#buffer ?? this.#acquire();
    let at = this.#used;
    if (this.#lengths.length > 0) buffer[at++] = COMMA;
    const start = at;
    at += record.head.copy(buffer, at);
    if (record.tail !== undefined) at += buffer.write(record.tail, at);
    this.#lengths.push(at - start);
    this.#used = at;
    return closed;
  }

  /** Closes the open batch at the end of the object; undefined when it holds no record. */
  flush(): Batch | undefined {
    return this.#lengths.length > 0 ? this.#close() : undefined;
  }

  /** Returns a written batch's buffer for reuse. */
  release(batch: Batch): void {
    if (this.#free.length < 8) this.#free.push(batch.buffer);
  }

  #acquire(): Buffer {
    // Only batches of at most maxBytes are built (a lone record is at most maxBytes - 2: see tooLarge).
    const buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#limits.maxBytes);
    buffer[0] = OPEN;
    this.#buffer = buffer;
    this.#used = 1;
    return buffer;
  }

  #close(): Batch {
    const buffer = this.#buffer!;
    buffer[this.#used] = CLOSE;
    const batch: Batch = {
      index: this.#index++,
      body: buffer.subarray(0, this.#used + 1),
      buffer,
      recordCount: this.#lengths.length,
      recordLengths: this.#lengths,
    };
    this.#buffer = undefined;
    this.#used = 0;
    this.#lengths = [];
    return batch;
  }
}
