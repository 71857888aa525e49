import { createHash } from 'node:crypto';
import { ingestRequestMessage } from '../messages/build.ts';
import type { IngestRequestMessage } from '../messages/ingest-request.ts';
import type { BlobStatusRow } from './blob-status-model.ts';

/**
 * The same blob version and attempt always yields the same message id, whoever publishes it (a scan,
 * a requeue after `unknown`), so a republish after a crash or two replicas racing past a claim is
 * recognisable downstream as the same request.
 */
export function ingestRequestId(
  container: string,
  blobName: string,
  etag: string,
  attempt: number,
  rescues = 0,
): string {
  // A rescue keeps the attempt; it still needs an id of its own, or duplicate detection drops it.
  const key = `${container}\n${blobName}\n${etag}\n${attempt}${rescues > 0 ? `\nrescue ${rescues}` : ''}`;
  const digest = createHash('sha256').update(key).digest('hex');
  return `ingest-${digest}`;
}

/** The request for a claimed row; its attempt number is the row's, set by the claim. */
export function ingestRequestFor(
  row: BlobStatusRow,
  producer: IngestRequestMessage['producer'],
  options: { readonly scanId?: string; readonly now?: Date } = {},
): IngestRequestMessage {
  return ingestRequestMessage(
    {
      id: ingestRequestId(row.container, row.blobName, row.etag, row.attempts, row.rescues),
      producer,
      ...(options.now ? { now: options.now } : {}),
    },
    {
      container: row.container,
      blobName: row.blobName,
      etag: row.etag,
      size: row.size,
      attempt: row.attempts,
      ...(options.scanId !== undefined ? { scanId: options.scanId } : {}),
    },
  );
}
