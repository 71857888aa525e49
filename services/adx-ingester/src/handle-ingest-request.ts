import { type Mappings, routeBlob } from '@logferry/shared/mappings/index';
import type { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { guardStore } from '@logferry/shared/stores/guard-store';
import { type Handler, outcome } from '@logferry/shared/transport/port';
import { type IngestDeps, ingestBlob } from './ingest-blob.ts';

export interface IngestRequestDeps extends IngestDeps {
  readonly store: IngestDeps['store'] & Pick<BlobStatusStore, 'claim'>;
  readonly mappings: Mappings;
  readonly maxAttempts: number;
}

/** `ingest-requests`: a blob claimed by blob-scanner (or published by the CLI) → ADX queued ingestion. */
export function createIngestRequestHandler(deps: IngestRequestDeps): Handler<'ingest-requests'> {
  return async (delivery) => {
    const request = delivery.body;
    const existing = await guardStore(deps.logger, 'read the status row', () =>
      deps.store.get(request.container, request.blobName),
    );
    if (!existing.ok) return existing.failure;
    if (!existing.value) {
      // Published without a scan (the CLI): claim it here so the row exists before ADX hears of it.
      const claim = await guardStore(deps.logger, 'claim the blob', () =>
        deps.store.claim(
          { container: request.container, name: request.blobName, etag: request.etag, size: request.size },
          request.scanId ?? `request:${request.id}`,
          deps.maxAttempts,
        ),
      );
      if (!claim.ok) return claim.failure;
      if (claim.value.outcome === 'unchanged') return outcome.success();
    }
    const routed = routeBlob(deps.mappings, request.blobName);
    return ingestBlob(deps, {
      container: request.container,
      name: request.blobName,
      etag: request.etag,
      rawSize: request.size,
      mapping: routed.mapping,
      routingKey: routed.key,
    });
  };
}
