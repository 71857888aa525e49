// What a scan does with the blobs it claimed: publish their ingest requests, then end or release the claims.
import type { Logger } from '@logferry/shared/logging/logger';
import { scrubExternalText } from '@logferry/shared/logging/redact';
import { ingestionResultMessage } from '@logferry/shared/messages/index';
import type { BlobRef, BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { ingestRequestFor } from '@logferry/shared/stores/ingest-request';
import type { Publisher } from '@logferry/shared/transport/port';
import { forEachLimit } from './for-each-limit.ts';
import type { EventBus } from './live/event-bus.ts';
import type { ScanRecord } from './scan-records.ts';

export const EMPTY_BLOB_REASON = 'empty blob (0 bytes): nothing to ingest';

export interface QueueingDeps {
  readonly store: Pick<BlobStatusStore, 'markPublished' | 'releaseClaim'>;
  readonly publisher: Publisher;
  readonly events: EventBus;
  readonly claimConcurrency: number;
  readonly publishBatch: number;
  readonly now: () => Date;
}

/**
 * Publishes the claimed rows' ingest requests in groups of `publishBatch`; a group whose publish fails is
 * counted failed and its claims released, so the next scan queues it again.
 */
export async function publishClaimed(
  deps: QueueingDeps,
  claimed: readonly BlobStatusRow[],
  scanId: string,
  counts: ScanRecord['counts'],
  log: Logger,
): Promise<void> {
  for (let i = 0; i < claimed.length; i += deps.publishBatch) {
    const group = claimed.slice(i, i + deps.publishBatch);
    try {
      await deps.publisher.publish(
        'ingest-requests',
        group.map((row) => ingestRequestFor(row, 'blob-scanner', { scanId, now: deps.now() })),
      );
      counts.queued += group.length;
      await markPublished(deps, group, log);
      for (const row of group) {
        deps.events.publish({
          type: 'blob',
          container: row.container,
          blobName: row.blobName,
          status: row.status,
          row,
        });
      }
    } catch (error) {
      counts.failed += group.length;
      log.error({ err: error, blobs: group.length }, 'publishing ingest requests failed; releasing their claims');
      await release(deps, group, error, log);
    }
  }
}

/**
 * Other replicas' pages hear of a skipped blob through `ingestion-results`, as of any other final status.
 * Best effort: the row is the record. The id is stable per blob version, so a rescan's resend is a duplicate.
 */
export async function publishSkipped(deps: QueueingDeps, blob: BlobRef, log: Logger): Promise<void> {
  const message = ingestionResultMessage(
    'blob-scanner',
    { kind: 'skipped', container: blob.container, blobName: blob.name, etag: blob.etag, reason: EMPTY_BLOB_REASON },
    deps.now(),
  );
  await deps.publisher.publish('ingestion-results', [message]).catch((error: unknown) => {
    log.warn({ err: error, blobName: blob.name }, 'could not publish the skipped result (the status row holds it)');
  });
}

/**
 * Ends the claims: a `queued` row without this mark is claimed again by the next scan once its lease runs
 * out (this replica died between claim and publish). A failed mark only costs a republish of the same id.
 */
async function markPublished(deps: QueueingDeps, rows: readonly BlobStatusRow[], log: Logger): Promise<void> {
  await forEachLimit(rows, deps.claimConcurrency, async (row) => {
    await deps.store.markPublished(row).catch((error: unknown) => {
      log.warn({ err: error, blobName: row.blobName }, 'could not mark the request published; it may be sent again');
    });
  });
}

/** The publish failed: the next scan claims these rows again at once, with the same attempt. */
async function release(deps: QueueingDeps, rows: readonly BlobStatusRow[], cause: unknown, log: Logger): Promise<void> {
  const reason = `not queued: publishing to ingest-requests failed (${errorText(cause)}); the next scan retries`;
  await forEachLimit(rows, deps.claimConcurrency, async (row) => {
    try {
      const result = await deps.store.releaseClaim(row, reason);
      const status = result.row?.status ?? 'queued';
      deps.events.publish({ type: 'blob', container: row.container, blobName: row.blobName, status });
    } catch (error) {
      log.warn({ err: error, blobName: row.blobName }, 'could not release claim; its lease runs out instead');
    }
  });
}

function errorText(error: unknown): string {
  return scrubExternalText(error instanceof Error ? error.message : String(error), 300);
}
