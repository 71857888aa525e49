import { createHash } from 'node:crypto';
import type { IngestRequestMessage } from '@logferry/shared/messages/ingest-request';
import type { BlobStatusRow } from '@logferry/shared/stores/blob-status';

/**
 * The same blob version and attempt always yields the same message id, so a republish after a crash
 * (or two replicas racing past a claim) is recognisable downstream as the same request.
 */
export function ingestRequestId(container: string, blobName: string, etag: string, attempt: number): string {
  const digest = createHash('sha256').update(`${container}\n${blobName}\n${etag}\n${attempt}`).digest('hex');
  return `ingest-${digest}`;
}

/** The request for a freshly claimed row (its attempt number is the row's, set by the claim). */
export function ingestRequestFor(row: BlobStatusRow, scanId: string, now: Date = new Date()): IngestRequestMessage {
  return {
    type: 'ingest-request',
    schemaVersion: 1,
    id: ingestRequestId(row.container, row.blobName, row.etag, row.attempts),
    producer: 'blob-scanner',
    time: now.toISOString(),
    container: row.container,
    blobName: row.blobName,
    etag: row.etag,
    size: row.size,
    attempt: row.attempts,
    scanId,
  };
}
