import {
  type IngestionResultMessage,
  type IngestRequestMessage,
  ingestionResultMessage,
} from '@logferry/shared/messages/index';
import type { BlobStatusRow } from '@logferry/shared/stores/blob-status';
import { ingestRequestFor as sharedIngestRequestFor } from '@logferry/shared/stores/ingest-request';

/** A requeue of the row's current attempt: the same id blob-scanner gave it, so duplicates are recognisable. */
export function ingestRequestFor(row: BlobStatusRow, now = new Date()): IngestRequestMessage {
  return sharedIngestRequestFor(row, 'completion-checker', {
    now,
    ...(row.scanId !== undefined && row.scanId.length <= 128 ? { scanId: row.scanId } : {}),
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The result for the page and alerts; undefined for a row that never had an ingestion (no source id). */
export function resultFor(
  row: BlobStatusRow,
  status: IngestionResultMessage['status'],
  sourceId: string | undefined = row.sourceId,
  now = new Date(),
): IngestionResultMessage | undefined {
  if (sourceId === undefined || !UUID.test(sourceId)) return undefined;
  const failed = status !== 'succeeded';
  return ingestionResultMessage(
    'completion-checker',
    {
      kind: 'status',
      container: row.container,
      blobName: row.blobName,
      sourceId,
      status,
      attempt: row.attempts,
      table: row.table,
      ...(failed ? { errorCode: row.errorCode, failureStatus: row.failureStatus, details: row.lastError } : {}),
    },
    now,
  );
}
