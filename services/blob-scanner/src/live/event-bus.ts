import { EventEmitter } from 'node:events';
import type { BlobStatus, BlobStatusRow } from '@logferry/shared/stores/blob-status';
import type { PipelineState } from '../pipeline/sampler.ts';
import type { ScanRecord } from '../scan-records.ts';

/** What the page hears about: a blob's status changed, a scan progressed, the counts per status changed. */
export type LiveEvent =
  | {
      readonly type: 'blob';
      readonly container: string;
      readonly blobName: string;
      readonly status: BlobStatus;
      /** The full row when it could be read; the page refreshes its view when it is missing. */
      readonly row?: BlobStatusRow;
    }
  | { readonly type: 'scan'; readonly scan: ScanRecord }
  | { readonly type: 'counts'; readonly counts: Record<BlobStatus, number> }
  | { readonly type: 'pipeline'; readonly pipeline: PipelineState };

export type LiveListener = (event: LiveEvent) => void;

/** In-process fan-out from the scanner and the ingestion-results subscription to every open /events stream. */
export class EventBus {
  readonly #emitter = new EventEmitter();

  constructor(maxListeners = 1_000) {
    this.#emitter.setMaxListeners(maxListeners);
  }

  publish(event: LiveEvent): void {
    this.#emitter.emit('event', event);
  }

  subscribe(listener: LiveListener): () => void {
    // A listener that throws must not break the publisher (the scanner) or the other listeners.
    const safe = (event: LiveEvent) => {
      try {
        listener(event);
      } catch {
        /* a broken stream is dropped by its own error handler */
      }
    };
    this.#emitter.on('event', safe);
    return () => this.#emitter.off('event', safe);
  }

  get listenerCount(): number {
    return this.#emitter.listenerCount('event');
  }
}
