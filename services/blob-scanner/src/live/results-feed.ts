import type { Logger } from '@logferry/shared/logging/logger';
import type { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { type Handler, outcome } from '@logferry/shared/transport/port';
import type { EventBus } from './event-bus.ts';

/**
 * Handler for the `ingestion-results` subscription: turns a status change made by the completion checker
 * (another process) into a live event for the page. It only notifies, so it always succeeds; the full row
 * is read for the page when the table answers, else the message's own fields are enough.
 */
export function resultsFeedHandler(deps: {
  /** Only this container's blobs are shown; results for other containers (staged batches) are ignored. */
  readonly container: string;
  readonly store: Pick<BlobStatusStore, 'get'>;
  readonly events: EventBus;
  readonly logger: Logger;
}): Handler<'ingestion-results'> {
  return async ({ body }) => {
    if (body.container !== deps.container) return outcome.success();
    let row: Awaited<ReturnType<BlobStatusStore['get']>>;
    try {
      row = await deps.store.get(body.container, body.blobName);
    } catch (error) {
      deps.logger.debug({ err: error, blobName: body.blobName }, 'could not read row for live event');
    }
    deps.events.publish({
      type: 'blob',
      container: body.container,
      blobName: body.blobName,
      status: row?.status ?? body.status,
      ...(row ? { row } : {}),
    });
    return outcome.success();
  };
}
