import type { ContainerClient } from '@azure/storage-blob';
import { type Mappings, mappingForSource } from '@logferry/shared/mappings/index';
import type { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { guardStore } from '@logferry/shared/stores/guard-store';
import { type Handler, outcome } from '@logferry/shared/transport/port';
import { type IngestDeps, ingestBlob } from './ingest-blob.ts';

export interface StagedBatchDeps extends IngestDeps {
  readonly store: IngestDeps['store'] & Pick<BlobStatusStore, 'claim'>;
  readonly mappings: Mappings;
  readonly maxAttempts: number;
  readonly container: (name: string) => ContainerClient;
}

/**
 * `staged-batches`: batches whose source has an entry in mappings.json also go to ADX (the entry says json
 * or multijson). Others are la-uploader's alone and completed at once, without a row. A v2 batch is one
 * JSON array (the Logs Ingestion request body), which ADX reads only as `multijson`; a v1 batch is NDJSON,
 * which both JSON formats read.
 */
export function createStagedBatchHandler(deps: StagedBatchDeps): Handler<'staged-batches'> {
  return async (delivery) => {
    const batch = delivery.body;
    const mapping = mappingForSource(deps.mappings, batch.source);
    if (!mapping) return outcome.success();
    let etag: string;
    let size: number;
    try {
      const props = await deps.container(batch.blobContainer).getBlobClient(batch.blobName).getProperties();
      etag = props.etag ?? '';
      size = props.contentLength ?? batch.compressedBytes;
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404)
        return outcome.deadLetter('StagedBlobMissing', `${batch.blobContainer}/${batch.blobName} does not exist`);
      return outcome.retryLater(
        'StagedBlobUnreadable',
        `reading the staged blob's properties failed: ${(error as Error).message}`,
      );
    }
    const claimed = await guardStore(deps.logger, 'claim the staged blob', () =>
      deps.store.claim(
        { container: batch.blobContainer, name: batch.blobName, etag, size },
        `staged:${batch.id}`,
        deps.maxAttempts,
      ),
    );
    if (!claimed.ok) return claimed.failure;
    return ingestBlob(deps, {
      container: batch.blobContainer,
      name: batch.blobName,
      etag,
      rawSize: batch.rawBytes > 0 ? batch.rawBytes : size,
      mapping: batch.schemaVersion === 2 && mapping.format === 'json' ? { ...mapping, format: 'multijson' } : mapping,
      routingKey: batch.source,
    });
  };
}
