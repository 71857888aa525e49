import type { SerializedRecord } from './enrich.ts';

export interface BatchLimits {
  /** Upper bound of the batch as a JSON array (`[` + records joined by `,` + `]`), in bytes. */
  readonly maxBytes: number;
  readonly maxRecords: number;
}

export interface Batch {
  readonly index: number;
  /** The NDJSON text: each record followed by a newline. A view of `buffer`. */
  readonly ndjson: Buffer;
  /** The pooled buffer behind `ndjson`; give it back with Batcher.release once the batch is written. */
  readonly buffer: Buffer;
  readonly recordCount: number;
  /** Bytes of the same records as a JSON array: what the Logs Ingestion API measures. */
  readonly arrayBytes: number;
}

const NEWLINE = 0x0a;

/**
 * Groups serialized records into batches under both limits, copying each record into one buffer per
 * batch (the NDJSON text of a batch is never larger than its JSON-array form, so a buffer of maxBytes
 * always fits). Copying at once lets the decompressed chunks die young, and reusing the buffers of
 * written batches keeps the allocation rate, and so the heap, flat. Batch boundaries depend only on the
 * records and the limits, which keeps batch indexes (and so batch ids) stable when an object is
 * processed again.
 */
export class Batcher {
  readonly #limits: BatchLimits;
  readonly #free: Buffer[] = [];
  #index = 0;
  #buffer: Buffer | undefined;
  #used = 0;
  #count = 0;

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
    if (
      this.#count > 0 &&
      (this.#count >= this.#limits.maxRecords ||
        arrayBytes(this.#used - this.#count + record.bytes, this.#count + 1) > this.#limits.maxBytes)
    ) {
      closed = this.#close();
    }
    const buffer = this.#buffer ?? this.#acquire();
    let at = this.#used + record.head.copy(buffer, this.#used);
    if (record.tail !== undefined) at += buffer.write(record.tail, at);
    buffer[at] = NEWLINE;
    this.#used = at + 1;
    this.#count++;
    return closed;
  }

  /** Closes the open batch at the end of the object; undefined when it holds no record. */
  flush(): Batch | undefined {
    return this.#count > 0 ? this.#close() : undefined;
  }

  /** Returns a written batch's buffer for reuse. */
  release(batch: Batch): void {
    if (this.#free.length < 8) this.#free.push(batch.buffer);
  }

  #acquire(): Buffer {
    // maxBytes bounds the NDJSON size too (see the class comment); +1 for the newline of a lone record.
    this.#buffer = this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#limits.maxBytes + 1);
    return this.#buffer;
  }

  #close(): Batch {
    const buffer = this.#buffer!;
    const batch: Batch = {
      index: this.#index++,
      ndjson: buffer.subarray(0, this.#used),
      buffer,
      recordCount: this.#count,
      arrayBytes: arrayBytes(this.#used - this.#count, this.#count),
    };
    this.#buffer = undefined;
    this.#used = 0;
    this.#count = 0;
    return batch;
  }
}

function arrayBytes(recordBytes: number, count: number): number {
  return recordBytes + 2 + Math.max(0, count - 1);
}
