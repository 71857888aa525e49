import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { StagedBatchMessage } from '@logferry/shared/messages/index';
import { decodeRecordLengths, jsonArrayBytesOf } from '@logferry/shared/stores/record-lengths';
import { readNdjsonBatch, toJsonArray } from '@logferry/shared/stores/staged-ndjson';
import {
  downloadStagedBlob,
  inflateJsonArrayBatch,
  isBlobNotFound,
  StagedBatchLayoutError,
  StagedBlobTooLarge,
} from '@logferry/shared/stores/staging';
import { containerClients } from './container-clients.ts';

// A v2 staged batch (gzip JSON array) is read as its stored bytes and never opened on the common path:
// those bytes are the request body. The record lengths from the message are all a split needs; the
// array is inflated only when a request must carry part of the batch. A v1 batch (gzip NDJSON) is opened
// and each line parsed once to check it is one JSON object, as before.

/** The records of one staged batch, as the uploader needs them. */
export interface StagedRecords {
  /** Byte length of each record in the batch's JSON array. */
  readonly lengths: readonly number[];
  /** The whole batch as a gzip JSON-array request body, when it is stored as one (v2). */
  readonly whole: Buffer | undefined;
  /** The uncompressed JSON array, inflated and checked on first call; rejects with StagedBatchUnreadable. */
  array(): Promise<Buffer>;
}

export type StagedBatchRead =
  | { readonly kind: 'ok'; readonly records: StagedRecords }
  | { readonly kind: 'missing' }
  | { readonly kind: 'corrupt'; readonly reason: string }
  | { readonly kind: 'tooLarge'; readonly maxRawBytes: number };

/** The staged blob cannot be opened or does not match its message: redelivery cannot fix it. */
export class StagedBatchUnreadable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StagedBatchUnreadable';
  }
}

export interface StagedBatchSource {
  /** Storage faults (other than a missing blob) reject: they are worth a retry. */
  read(message: StagedBatchMessage, signal?: AbortSignal): Promise<StagedBatchRead>;
}

export function createStagedBatchSource(blobs: BlobServiceClient, maxRawBytes: number): StagedBatchSource {
  const containerOf = containerClients(blobs);
  return {
    async read(message, signal) {
      const container = containerOf(message.blobContainer);
      try {
        return message.schemaVersion === 2
          ? await readJsonArray(container, message, maxRawBytes, signal)
          : await readNdjson(container, message, maxRawBytes, signal);
      } catch (err) {
        if (isBlobNotFound(err)) return { kind: 'missing' };
        if (err instanceof StagedBlobTooLarge || isTooLarge(err)) return { kind: 'tooLarge', maxRawBytes };
        if (isZlibError(err))
          return { kind: 'corrupt', reason: `not a readable gzip stream (${(err as Error).message})` };
        throw err;
      }
    },
  };
}

async function readJsonArray(
  container: ContainerClient,
  message: Extract<StagedBatchMessage, { schemaVersion: 2 }>,
  maxRawBytes: number,
  signal: AbortSignal | undefined,
): Promise<StagedBatchRead> {
  const lengths = decodeRecordLengths(message.recordLengths, message.recordCount);
  if (lengths?.length !== message.recordCount || jsonArrayBytesOf(lengths) !== message.rawBytes) {
    return {
      kind: 'corrupt',
      reason: 'the record lengths on the message do not add up to its recordCount and rawBytes',
    };
  }
  if (message.rawBytes > maxRawBytes) return { kind: 'tooLarge', maxRawBytes };
  // gzip can outgrow tiny inputs by its header; anything larger than that is not what the message describes.
  const whole = await downloadStagedBlob(container, message.blobName, {
    maxBytes: maxRawBytes + 1_024,
    ...(signal ? { abortSignal: signal } : {}),
  });
  // Without inflating: the gzip magic, and the trailer's ISIZE (uncompressed length mod 2^32) against rawBytes.
  if (
    whole.length < 18 ||
    whole[0] !== 0x1f ||
    whole[1] !== 0x8b ||
    whole.readUInt32LE(whole.length - 4) !== message.rawBytes
  ) {
    return { kind: 'corrupt', reason: `not a gzip stream of the ${message.rawBytes} bytes its message announces` };
  }
  let inflated: Promise<Buffer> | undefined;
  return {
    kind: 'ok',
    records: {
      lengths,
      whole,
      array: () => {
        inflated ??= inflateJsonArrayBatch(whole, lengths, maxRawBytes).catch((err: unknown) => {
          throw new StagedBatchUnreadable(unreadableReason(err, maxRawBytes));
        });
        return inflated;
      },
    },
  };
}

async function readNdjson(
  container: ContainerClient,
  message: StagedBatchMessage,
  maxRawBytes: number,
  signal: AbortSignal | undefined,
): Promise<StagedBatchRead> {
  const { lines } = await readNdjsonBatch(container, message.blobName, {
    maxRawBytes,
    ...(signal ? { abortSignal: signal } : {}),
  });
  for (let i = 0; i < lines.length; i++) {
    const problem = checkRecord(lines[i] as Buffer);
    if (problem) return { kind: 'corrupt', reason: `line ${i + 1}: ${problem}` };
  }
  const array = toJsonArray(lines);
  return { kind: 'ok', records: { lengths: lines.map((l) => l.length), whole: undefined, array: async () => array } };
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

function unreadableReason(err: unknown, maxRawBytes: number): string {
  if (err instanceof StagedBatchLayoutError) return err.message;
  if (isTooLarge(err)) return `inflates past ${maxRawBytes} bytes (MAX_STAGED_BATCH_BYTES)`;
  if (isZlibError(err)) return `not a readable gzip stream (${(err as Error).message})`;
  return String(err);
}

function isTooLarge(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError;
}

function isZlibError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('Z_');
}
