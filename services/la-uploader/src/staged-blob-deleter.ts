import type { BlobBatchClient, BlobClient, BlobServiceClient } from '@azure/storage-blob';
import type { Logger } from '@logferry/shared';
import { containerClients } from './container-clients.ts';

/**
 * Deletes uploaded batches' staged blobs in Blob Batch requests (up to 256 deletes each) instead of one
 * request per blob: measured on Azurite (`npm run bench`, la-uploader steps), a request of 256 costs the
 * client about a third of the CPU per blob that single deletes do, and the delete was one of la-uploader's
 * five storage and sink requests per batch.
 *
 * Off the message's path: the batch is settled once its row says uploaded, and its blob is queued here.
 * What a crash loses is only the queue, and the staging container's lifecycle rule removes those blobs
 * (docs/deployment.md). Memory is bounded: past `maxPending` (a long storage outage) the oldest names are
 * dropped, left to the same rule, with a warning.
 */
export interface StagedBlobDeleter {
  /** Queues the blob for deletion; never throws. */
  delete(container: string, blobName: string): void;
  /** Deletes everything queued now; resolves once each delete answered, succeeded or not. */
  flush(): Promise<void>;
  /**
   * Flushes, for at most `timeoutMs` (default 2 s: it runs after the subscription's grace period, inside the
   * shutdown watchdog's 5 s margin): call after the subscription has stopped. What is still queued then is
   * left to the lifecycle rule.
   */
  close(timeoutMs?: number): Promise<void>;
}

export interface StagedBlobDeleterOptions {
  readonly logger: Logger;
  /** How long the first queued blob waits for others before a request goes; 0 sends at once. */
  readonly delayMs: number;
  /** Deletes per request; the Blob Batch API takes at most 256. */
  readonly maxBatch?: number;
  /** Names held at most (only reached while storage fails). */
  readonly maxPending?: number;
  /** Attempts per blob before it is left to the lifecycle rule. */
  readonly maxAttempts?: number;
  /** Wait after a failed request before the next (a storage outage); default 5 s. */
  readonly retryDelayMs?: number;
}

export interface StagedBlobDeleterCounts {
  deleted: number;
  /** Already gone (404): a redelivered batch's blob, or one a person removed. */
  absent: number;
  /** Left to the lifecycle rule after maxAttempts failures, or dropped past maxPending. */
  abandoned: number;
}

interface Pending {
  readonly container: string;
  readonly blobName: string;
  attempts: number;
}

const BLOB_BATCH_LIMIT = 256;
// A batch request has a fixed cost of about 14 single deletes (measured on Azurite): fewer go one by one.
const MIN_BATCH = 16;

export function createStagedBlobDeleter(
  blobs: BlobServiceClient,
  options: StagedBlobDeleterOptions,
): StagedBlobDeleter & { readonly counts: Readonly<StagedBlobDeleterCounts> } {
  const { logger } = options;
  const maxBatch = Math.min(options.maxBatch ?? BLOB_BATCH_LIMIT, BLOB_BATCH_LIMIT);
  const maxPending = options.maxPending ?? 10_000;
  const maxAttempts = options.maxAttempts ?? 5;
  const retryDelayMs = options.retryDelayMs ?? 5_000;
  const counts: StagedBlobDeleterCounts = { deleted: 0, absent: 0, abandoned: 0 };
  let batchClient: BlobBatchClient | undefined;
  const containerOf = containerClients(blobs);
  // Some accounts refuse Blob Batch (a 4xx for the whole request); then one delete per blob, as before.
  let singleDeletes = false;
  let pending: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  // After a failed request, a full queue waits for the retry timer instead of sending one request per new name.
  let retryAt = 0;
  let closed = false;

  const schedule = (delayMs: number) => {
    if (timer || pending.length === 0 || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush(false);
    }, delayMs);
    timer.unref();
  };

  const abandon = (items: readonly Pending[], why: string) => {
    if (items.length === 0) return;
    counts.abandoned += items.length;
    logger.warn(
      { blobs: items.length, first: `${items[0]?.container}/${items[0]?.blobName}` },
      `staged blobs not deleted (${why}); the staging lifecycle rule removes them`,
    );
  };

  /** Puts failed names back (or gives up on those out of attempts); returns how many went back. */
  const retryLater = (items: Pending[]): number => {
    const again = items.filter((p) => ++p.attempts < maxAttempts);
    abandon(
      items.filter((p) => p.attempts >= maxAttempts),
      `${maxAttempts} failed attempts`,
    );
    pending = [...again, ...pending];
    return again.length;
  };

  /** One request's worth; returns how many names went back to the queue for a later attempt. */
  async function send(batch: Pending[]): Promise<number> {
    const clients = batch.map((p) => containerOf(p.container).getBlobClient(p.blobName));
    if (!singleDeletes && batch.length >= MIN_BATCH) {
      try {
        batchClient ??= blobs.getBlobBatchClient();
        const res = await batchClient.deleteBlobs(clients);
        if (closed) return 0;
        const failed: Pending[] = [];
        let firstFailure: { status?: number; code?: string | undefined } | undefined;
        // By the blob's position: a sub-response the answer lacks counts as failed, not as done.
        batch.forEach((item, i) => {
          const sub = res.subResponses[i];
          if (sub && sub.status >= 200 && sub.status < 300) counts.deleted++;
          else if (sub?.status === 404) counts.absent++;
          else {
            failed.push(item);
            firstFailure ??= { status: sub?.status, code: sub ? sub.errorCode : 'NoSubResponse' };
          }
        });
        logger.debug({ blobs: batch.length, failed: failed.length }, 'Blob Batch delete of staged blobs answered');
        if (failed.length === 0) return 0;
        logger.warn({ failed: failed.length, ...firstFailure }, 'some deletes of staged blobs failed');
        return retryLater(failed);
      } catch (err) {
        if (closed) return 0;
        if (!refusesBatch(err)) {
          logger.warn({ err, blobs: batch.length }, 'could not delete staged blobs; trying again later');
          return retryLater(batch);
        }
        singleDeletes = true;
        logger.warn({ err }, 'the storage account refused a Blob Batch request; deleting staged blobs one by one');
      }
    }
    return deleteOneByOne(batch, clients);
  }

  async function deleteOneByOne(batch: Pending[], clients: readonly BlobClient[]): Promise<number> {
    const failed: Pending[] = [];
    let lastError: unknown;
    for (const [i, client] of clients.entries()) {
      try {
        const res = await client.deleteIfExists();
        if (closed) return 0;
        if (res.succeeded) counts.deleted++;
        else counts.absent++;
      } catch (err) {
        if (closed) return 0;
        lastError = err;
        failed.push(batch[i] as Pending);
      }
    }
    if (failed.length === 0) return 0;
    logger.warn({ err: lastError, failed: failed.length }, 'could not delete staged blobs; trying again later');
    return retryLater(failed);
  }

  /**
   * Sends what is queued, one request at a time. Unless forced (an explicit flush, close), it holds off until
   * `retryAt` after a failed request: flushes queued behind a failing one must not turn into a burst.
   */
  function flush(force: boolean): Promise<void> {
    if (timer) {
      clearTimeout(timer);
      timer = undefined;
    }
    running = running
      .then(async () => {
        while (pending.length > 0 && !closed) {
          const wait = retryAt - Date.now();
          if (!force && wait > 0) return schedule(wait);
          const requeued = await send(pending.splice(0, maxBatch));
          if (requeued > 0) {
            // Wait before the next request rather than spin on an outage.
            retryAt = Date.now() + retryDelayMs;
            return schedule(retryDelayMs);
          }
          retryAt = 0;
        }
      })
      .catch((err: unknown) =>
        logger.error({ err }, 'staged blob deleter failed; the lifecycle rule removes what is left'),
      );
    return running;
  }

  return {
    counts,
    delete(container, blobName) {
      pending.push({ container, blobName, attempts: 0 });
      if (pending.length > maxPending) abandon(pending.splice(0, pending.length - maxPending), 'too many queued');
      if ((pending.length >= maxBatch || options.delayMs === 0) && Date.now() >= retryAt) void flush(false);
      else schedule(retryAt > 0 ? Math.max(0, retryAt - Date.now()) : options.delayMs);
    },
    flush: () => flush(true),
    async close(timeoutMs = 2_000) {
      let timeout: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timeout = setTimeout(() => resolve('late'), timeoutMs);
      });
      const result = await Promise.race([flush(true), late]);
      clearTimeout(timeout);
      // A request still in flight may answer later: its names are counted abandoned here, not again then.
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      // Still queued: a request that hung past the timeout, or deletes that failed and were waiting to retry.
      const why = result === 'late' ? `shutdown could not wait more than ${timeoutMs} ms` : 'shutting down';
      abandon(pending.splice(0), why);
    },
  };
}

/**
 * The account will not take a Blob Batch request at all (the API or the operation not supported there), as
 * opposed to an answer single deletes would get too (403: the role or a clock skew; 408, 429, 5xx: transient).
 */
function refusesBatch(err: unknown): boolean {
  const status = (err as { statusCode?: unknown }).statusCode;
  return status === 400 || status === 404 || status === 405 || status === 501;
}
