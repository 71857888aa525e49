import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AbortSignalLike } from '@azure/abort-controller';
import type { ContainerClient } from '@azure/storage-blob';
import { jsonArrayBytesOf } from './record-lengths.ts';

/**
 * Staged batches (claim check), written by s3-fetcher, read by la-uploader and adx-ingester. Since message
 * schema v2 a staged blob is the Logs Ingestion request body itself: a gzip JSON array, records joined by
 * commas, under the request limit, so la-uploader posts it as it is (`Content-Encoding: gzip`) and ADX reads
 * it as `multijson`. Names and ids are pure functions of the object identity and the batch index, so
 * reprocessing an object overwrites the same blobs and republishes the same batch ids. The v1 format (gzip
 * NDJSON) is read by staged-ndjson.ts while such messages may still be in flight.
 */

export const DEFAULT_STAGING_CONTAINER = 'staging';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b; // {
const CLOSE_OBJECT = 0x7d; // }

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The batch id (message id downstream): 32 hex chars of sha256(objectId, batchIndex). */
export function stagedBatchId(objectId: string, batchIndex: number): string {
  return sha256(`${objectId}\n${batchIndex}`).slice(0, 32);
}

export interface StagedBatchNameParts {
  /** Logical source (first path segment); characters outside [A-Za-z0-9_-] become '_'. */
  readonly source: string;
  readonly objectId: string;
  readonly batchIndex: number;
  /** The object's event time (not "now", so a retry after midnight writes the same names). */
  readonly date: Date;
}

/**
 * The folder every staged blob of a source lives under. Consumers check a staged-batches message's blob name
 * against it (with the message's own source), so a forged message cannot point them outside it.
 */
export function stagedBatchPrefix(source: string): string {
  // Source names are already of this alphabet (source-name.ts); `.` is out, so no segment can be `..`.
  return `${source.replace(/[^A-Za-z0-9_-]/g, '_') || '_'}/`;
}

/** `<source>/<yyyy>/<mm>/<dd>/<sha256(objectId)[0:16]>/<batchIndex:000000>.json.gz` */
export function stagedBatchBlobName(parts: StagedBatchNameParts): string {
  const d = parts.date;
  const yyyy = String(d.getUTCFullYear()).padStart(4, '0');
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const folder = sha256(parts.objectId).slice(0, 16);
  return `${stagedBatchPrefix(parts.source)}${yyyy}/${mm}/${dd}/${folder}/${String(parts.batchIndex).padStart(6, '0')}.json.gz`;
}

export interface StagedBatchWrite {
  readonly blobName: string;
  readonly objectId: string;
  readonly batchIndex: number;
  readonly source: string;
  readonly recordCount: number;
  /** The JSON array text, exactly as it is to be sent: `[` + records joined by `,` + `]`. */
  readonly body: Buffer;
}

export interface WriteOptions {
  /** zlib level 1–9 (1: fastest; staged blobs are short-lived, CPU matters more than bytes). */
  readonly gzipLevel?: number;
  readonly abortSignal?: AbortSignalLike;
}

/**
 * Gzips (off the main thread, in libuv's pool) and uploads one batch; resolves once the blob is
 * durable, which is when its message may be published. Overwrites: a rewrite after a crash writes
 * the same bytes under the same name.
 */
export async function writeStagedBatch(
  container: ContainerClient,
  batch: StagedBatchWrite,
  options: WriteOptions = {},
): Promise<{ rawBytes: number; compressedBytes: number }> {
  const body = await gzip(batch.body, { level: options.gzipLevel ?? 1 });
  // Metadata travels in ASCII HTTP headers: values URI-encoded. For people and tools; consumers read the message.
  const metadata: Record<string, string> = {
    objectid: encodeURIComponent(batch.objectId),
    batchindex: String(batch.batchIndex),
    recordcount: String(batch.recordCount),
    rawbytes: String(batch.body.length),
    source: encodeURIComponent(batch.source),
    format: 'json-array',
  };
  await container.getBlockBlobClient(batch.blobName).uploadData(body, {
    // No Content-Encoding header: readers (ADX, our own) expect the gzip bytes, not a transparently inflated body.
    blobHTTPHeaders: { blobContentType: 'application/gzip' },
    metadata,
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  });
  return { rawBytes: batch.body.length, compressedBytes: body.length };
}

/** The blob holds more bytes than the caller allows for one batch. */
export class StagedBlobTooLarge extends Error {
  readonly bytes: number;
  constructor(bytes: number, maxBytes: number) {
    super(`staged blob is ${bytes} bytes; at most ${maxBytes} are accepted`);
    this.name = 'StagedBlobTooLarge';
    this.bytes = bytes;
  }
}

/**
 * The staged blob's bytes as stored (gzip), into one buffer of its announced length; a blob longer than
 * maxBytes is refused before its body is read. A missing blob throws the SDK's RestError with statusCode
 * 404 (see isBlobNotFound).
 */
export async function downloadStagedBlob(
  container: ContainerClient,
  blobName: string,
  options: { readonly maxBytes: number; readonly abortSignal?: AbortSignalLike },
): Promise<Buffer> {
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  // maxRetryRequests 0: no SDK stream that re-requests the rest after a dropped connection. Staged blobs are
  // small and a failed read is retried whole by redelivery; the wrapper cost a fifth of the download's CPU.
  const response = await container.getBlobClient(blobName).download(0, undefined, { ...signal, maxRetryRequests: 0 });
  const length = response.contentLength ?? 0;
  const body = response.readableStreamBody;
  if (length > options.maxBytes) {
    (body as { destroy?: () => void } | undefined)?.destroy?.();
    throw new StagedBlobTooLarge(length, options.maxBytes);
  }
  const out = Buffer.allocUnsafe(length);
  let at = 0;
  for await (const chunk of body ?? []) {
    const c = chunk as Buffer;
    if (at + c.length > length) throw new StagedBlobTooLarge(at + c.length, length);
    at += c.copy(out, at);
  }
  return at === length ? out : out.subarray(0, at);
}

/** A staged JSON-array batch whose bytes do not match the record lengths its message announced. */
export class StagedBatchLayoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StagedBatchLayoutError';
  }
}

/**
 * Inflates a staged JSON-array batch (the rare paths: a split, a resume) and checks that the record lengths
 * from its message fall on record boundaries: `[`, then `{…}` records separated by single commas, then `]`.
 * Throws StagedBatchLayoutError when they do not, zlib's errors for corrupt gzip, RangeError past maxRawBytes.
 */
export async function inflateJsonArrayBatch(
  gz: Buffer,
  lengths: readonly number[],
  maxRawBytes: number,
): Promise<Buffer> {
  const raw = await gunzip(gz, { maxOutputLength: maxRawBytes });
  const expected = jsonArrayBytesOf(lengths);
  if (raw.length !== expected) {
    throw new StagedBatchLayoutError(`blob inflates to ${raw.length} bytes; its record lengths add up to ${expected}`);
  }
  if (raw[0] !== OPEN || raw[raw.length - 1] !== CLOSE) throw new StagedBatchLayoutError('not a JSON array');
  let at = 1;
  for (let i = 0; i < lengths.length; i++) {
    if (i > 0 && raw[at++] !== COMMA) throw new StagedBatchLayoutError(`no comma before record ${i}`);
    const end = at + (lengths[i] as number);
    if (raw[at] !== OPEN_OBJECT || raw[end - 1] !== CLOSE_OBJECT) {
      throw new StagedBatchLayoutError(`record ${i} is not where its length puts it`);
    }
    at = end;
  }
  return raw;
}

export function isBlobNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}
