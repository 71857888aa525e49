import type { BlobServiceClient } from '@azure/storage-blob';
import { isBlobNotFound, readStagedBatch } from '@logferry/shared/stores/staging';

// Reads staged batches through the staging module s3-fetcher writes them with (gzip NDJSON). Records
// stay as their JSON bytes: the upload body is `[` + lines joined by `,` + `]`, so nothing is
// re-serialized; each line is parsed once only to check it is one JSON object.

export type StagedBatchRead =
  | { readonly kind: 'ok'; readonly lines: readonly Buffer[]; readonly rawBytes: number }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'tooLarge'; readonly maxRawBytes: number };

export interface StagedBatchSource {
  /** Storage faults (other than a missing blob) reject: they are worth a retry. */
  read(container: string, blobName: string, signal?: AbortSignal): Promise<StagedBatchRead>;
  /** Idempotent: a blob already gone is fine. */
  delete(container: string, blobName: string): Promise<void>;
}

export function createStagedBatchSource(blobs: BlobServiceClient, maxRawBytes: number): StagedBatchSource {
  return {
    async read(container, blobName, signal) {
      let lines: readonly Buffer[];
      let rawBytes: number;
      try {
        ({ lines, rawBytes } = await readStagedBatch(blobs.getContainerClient(container), blobName, {
          maxRawBytes,
          ...(signal ? { abortSignal: signal } : {}),
        }));
      } catch (err) {
        if (isBlobNotFound(err)) return { kind: 'missing' };
        const code = (err as { code?: unknown }).code;
        if (code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return { kind: 'tooLarge', maxRawBytes };
        if (typeof code === 'string' && code.startsWith('Z_')) {
          return { kind: 'corrupt', reason: `not a readable gzip stream (${(err as Error).message})` };
        }
        throw err;
      }
      for (let i = 0; i < lines.length; i++) {
        const problem = checkRecord(lines[i] as Buffer);
        if (problem) return { kind: 'corrupt', reason: `line ${i + 1}: ${problem}` };
      }
      return { kind: 'ok', lines, rawBytes };
    },
    async delete(container, blobName) {
      await blobs.getContainerClient(container).getBlobClient(blobName).deleteIfExists();
    },
  };
}

function checkRecord(line: Buffer): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line.toString('utf8'));
  } catch {
    return 'not valid JSON';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return undefined;
}
