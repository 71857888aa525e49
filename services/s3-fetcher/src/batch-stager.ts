import type { ContainerClient } from '@azure/storage-blob';
import { type StagedBatchMessage, stagedBatchMessage } from '@logferry/shared/messages/index';
import type { Route } from '@logferry/shared/routes/index';
import { encodeRecordLengths } from '@logferry/shared/stores/record-lengths';
import { stagedBatchBlobName, stagedBatchId, writeStagedBatch } from '@logferry/shared/stores/staging';
import type { Publisher } from '@logferry/shared/transport/port';
import type { Batch } from './batcher.ts';

export interface StagerOptions {
  readonly container: ContainerClient;
  readonly publisher: Publisher;
  readonly objectId: string;
  readonly source: string;
  /** The route's destinations, carried on every batch message. */
  readonly route: Pick<Route, 'logsIngestion' | 'adx'>;
  /** adx-ingester reads the batches too: la-uploader must leave their blobs to the lifecycle rule. */
  readonly adxReads: boolean;
  /** Date part of the blob names (the object's event time, so a retry writes the same names). */
  readonly blobDate: Date;
  readonly gzipLevel: number;
  /** Batch blobs being gzipped/uploaded at once for this object (each holds ~1 MB until written). */
  readonly uploadConcurrency: number;
  /** Messages published per publish call; the newest is held back until we know whether it is the last. */
  readonly publishGroupSize: number;
  readonly signal: AbortSignal;
  /** Told after each publish call, with the number of messages it published. */
  readonly onPublished?: (count: number) => void;
  /** Told when a batch's blob is written, so its buffer can be reused. */
  readonly onWritten?: (batch: Batch) => void;
}

export interface StagerTotals {
  readonly batches: number;
  readonly records: number;
  readonly rawBytes: number;
  readonly compressedBytes: number;
}

/**
 * Writes batch blobs with bounded concurrency and publishes their messages in batch order, only after
 * each blob is durable (claim check before the claim). Publishing in small groups as batches complete
 * keeps memory flat for large objects; the newest message is always held back so the final one can carry
 * `lastBatch` (an object whose record count falls on a batch boundary never produces an empty batch).
 */
export class BatchStager {
  readonly #options: StagerOptions;
  readonly #abort = new AbortController();
  readonly #signal: AbortSignal;
  #inflight: Promise<StagedBatchMessage>[] = [];
  #ready: StagedBatchMessage[] = [];
  #totals = { batches: 0, records: 0, rawBytes: 0, compressedBytes: 0 };

  constructor(options: StagerOptions) {
    this.#options = options;
    this.#signal = AbortSignal.any([options.signal, this.#abort.signal]);
  }

  /** Starts writing a batch; waits while too many are in flight (back-pressure on the decoder). */
  async stage(batch: Batch): Promise<void> {
    const write = this.#write(batch);
    // Observed later in order; this keeps an early failure from being an unhandled rejection meanwhile.
    write.catch(() => {});
    this.#inflight.push(write);
    while (this.#inflight.length >= this.#options.uploadConcurrency) await this.#settleOldest();
  }

  /** Waits for every write, then publishes the rest with `lastBatch` on the final message. */
  async finish(): Promise<StagerTotals> {
    while (this.#inflight.length > 0) await this.#settleOldest();
    const last = this.#ready.length - 1;
    if (last >= 0) this.#ready[last] = { ...this.#ready[last]!, lastBatch: true };
    await this.#publish(this.#ready);
    this.#ready = [];
    return { ...this.#totals };
  }

  /** Stops writes still running (after a failure) and waits until they let go. */
  async abandon(): Promise<void> {
    this.#abort.abort(new Error('object processing stopped'));
    await Promise.allSettled(this.#inflight);
    this.#inflight = [];
  }

  async #settleOldest(): Promise<void> {
    const message = await this.#inflight.shift()!;
    this.#ready.push(message);
    if (this.#ready.length > this.#options.publishGroupSize) {
      const group = this.#ready.slice(0, -1);
      this.#ready = this.#ready.slice(-1);
      await this.#publish(group);
    }
  }

  async #publish(messages: StagedBatchMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.#signal.throwIfAborted();
    await this.#options.publisher.publish('staged-batches', messages);
    this.#options.onPublished?.(messages.length);
  }

  async #write(batch: Batch): Promise<StagedBatchMessage> {
    const options = this.#options;
    const blobName = stagedBatchBlobName({
      source: options.source,
      objectId: options.objectId,
      batchIndex: batch.index,
      date: options.blobDate,
    });
    const written = await writeStagedBatch(
      options.container,
      {
        blobName,
        objectId: options.objectId,
        batchIndex: batch.index,
        source: options.source,
        recordCount: batch.recordCount,
        body: batch.body,
      },
      { gzipLevel: options.gzipLevel, abortSignal: this.#signal },
    );
    options.onWritten?.(batch);
    this.#totals.batches++;
    this.#totals.records += batch.recordCount;
    this.#totals.rawBytes += written.rawBytes;
    this.#totals.compressedBytes += written.compressedBytes;
    return stagedBatchMessage(
      { id: stagedBatchId(options.objectId, batch.index), producer: 's3-fetcher' },
      {
        objectId: options.objectId,
        batchIndex: batch.index,
        lastBatch: false,
        blobContainer: options.container.containerName,
        blobName,
        recordCount: batch.recordCount,
        rawBytes: written.rawBytes,
        compressedBytes: written.compressedBytes,
        source: options.source,
        recordLengths: encodeRecordLengths(batch.recordLengths),
        ...destination(options.route),
        ...(options.adxReads ? { adxReads: true as const } : {}),
      },
    );
  }
}

/** The message's logsIngestion field: the route's stream, none (ADX only), or absent (la-uploader's default). */
function destination(route: Pick<Route, 'logsIngestion' | 'adx'>): Pick<StagedBatchMessage, 'logsIngestion'> {
  if (route.logsIngestion) return { logsIngestion: route.logsIngestion };
  return route.adx ? { logsIngestion: false } : {};
}
