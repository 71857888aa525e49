import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AbortSignalLike } from '@azure/abort-controller';
import type { ContainerClient } from '@azure/storage-blob';

/**
 * Staged batches: gzip NDJSON blobs written by s3-fetcher (claim check) and read by la-uploader and
 * adx-ingester. Names and ids are pure functions of the object identity and the batch index, so
 * reprocessing an object overwrites the same blobs and republishes the same batch ids.
 */

export const DEFAULT_STAGING_CONTAINER = 'staging';

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);
const NEWLINE = 0x0a;
// A staged batch is at most ~1 MB of NDJSON; anything far larger is not ours.
const DEFAULT_MAX_RAW_BYTES = 16 * 1024 * 1024;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The batch id (message id downstream): 32 hex chars of sha256(objectId, batchIndex). */
export function stagedBatchId(objectId: string, batchIndex: number): string {
  return sha256(`${objectId}\n${batchIndex}`).slice(0, 32);
}

export interface StagedBatchNameParts {
  /** Logical source (first path segment); characters outside [A-Za-z0-9._-] become '_'. */
  readonly source: string;
  readonly objectId: string;
  readonly batchIndex: number;
  /** The object's event time (not "now", so a retry after midnight writes the same names). */
  readonly date: Date;
}

/** `<source>/<yyyy>/<mm>/<dd>/<sha256(objectId)[0:16]>/<batchIndex:000000>.ndjson.gz` */
export function stagedBatchBlobName(parts: StagedBatchNameParts): string {
  const d = parts.date;
  const source = parts.source.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
  const yyyy = String(d.getUTCFullYear()).padStart(4, '0');
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  const folder = sha256(parts.objectId).slice(0, 16);
  return `${source}/${yyyy}/${mm}/${dd}/${folder}/${String(parts.batchIndex).padStart(6, '0')}.ndjson.gz`;
}

/** Blob metadata of a staged batch (values URI-encoded: metadata travels in ASCII HTTP headers). */
export interface StagedBatchMetadata {
  readonly objectId: string;
  readonly batchIndex: number;
  readonly recordCount: number;
  readonly rawBytes: number;
  readonly source: string;
}

export interface StagedBatchWrite {
  readonly blobName: string;
  readonly objectId: string;
  readonly batchIndex: number;
  readonly source: string;
  readonly recordCount: number;
  /** The NDJSON text (each record followed by '\n'), as one buffer or pieces to join. */
  readonly ndjson: Buffer | readonly Buffer[];
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
  const raw = Buffer.isBuffer(batch.ndjson) ? batch.ndjson : Buffer.concat(batch.ndjson as Buffer[]);
  const body = await gzip(raw, { level: options.gzipLevel ?? 1 });
  const metadata: Record<string, string> = {
    objectid: encodeURIComponent(batch.objectId),
    batchindex: String(batch.batchIndex),
    recordcount: String(batch.recordCount),
    rawbytes: String(raw.length),
    source: encodeURIComponent(batch.source),
  };
  await container.getBlockBlobClient(batch.blobName).uploadData(body, {
    blobHTTPHeaders: { blobContentType: 'application/x-ndjson' },
    metadata,
    ...(options.abortSignal ? { abortSignal: options.abortSignal } : {}),
  });
  return { rawBytes: raw.length, compressedBytes: body.length };
}

export interface ReadOptions {
  readonly abortSignal?: AbortSignalLike;
  /** Refuses a blob that inflates past this (default 16 MiB). */
  readonly maxRawBytes?: number;
}

export interface StagedBatch {
  /** undefined when the blob carries no (or foreign) metadata. */
  readonly metadata: StagedBatchMetadata | undefined;
  readonly compressedBytes: number;
  readonly rawBytes: number;
  /** One Buffer per record (JSON object text, no newline). */
  readonly lines: readonly Buffer[];
}

/**
 * Downloads and inflates a staged batch. A batch is small (~1 MB of NDJSON), so it is read whole;
 * a missing blob throws the SDK's RestError with statusCode 404 (see isBlobNotFound).
 */
export async function readStagedBatch(
  container: ContainerClient,
  blobName: string,
  options: ReadOptions = {},
): Promise<StagedBatch> {
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const response = await container.getBlobClient(blobName).download(0, undefined, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const raw = await gunzip(body, { maxOutputLength: options.maxRawBytes ?? DEFAULT_MAX_RAW_BYTES });
  return {
    metadata: parseMetadata(response.metadata),
    compressedBytes: body.length,
    rawBytes: raw.length,
    lines: splitNdjson(raw),
  };
}

/** The staged batch's records as NDJSON lines (Buffers without the newline). */
export async function* openStagedBatchLines(
  container: ContainerClient,
  blobName: string,
  options: ReadOptions = {},
): AsyncGenerator<Buffer> {
  yield* (await readStagedBatch(container, blobName, options)).lines;
}

/** The staged batch's records, parsed. */
export async function* openStagedBatch(
  container: ContainerClient,
  blobName: string,
  options: ReadOptions = {},
): AsyncGenerator<Record<string, unknown>> {
  for (const line of (await readStagedBatch(container, blobName, options)).lines) {
    yield JSON.parse(line.toString()) as Record<string, unknown>;
  }
}

/**
 * The lines as the JSON array the Logs Ingestion API expects, joined verbatim: its byte length is
 * exactly what s3-fetcher measured against MAX_BATCH_BYTES (re-serializing could change it).
 */
export function toJsonArray(lines: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [Buffer.from('[')];
  const comma = Buffer.from(',');
  lines.forEach((line, i) => {
    if (i > 0) parts.push(comma);
    parts.push(line);
  });
  parts.push(Buffer.from(']'));
  return Buffer.concat(parts);
}

/** Bytes of toJsonArray(lines) without building it. */
export function jsonArrayBytes(lines: readonly Buffer[]): number {
  let n = 2 + Math.max(0, lines.length - 1);
  for (const l of lines) n += l.length;
  return n;
}

export function isBlobNotFound(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === 404;
}

function splitNdjson(raw: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let nl = raw.indexOf(NEWLINE); nl !== -1; nl = raw.indexOf(NEWLINE, start)) {
    if (nl > start) lines.push(raw.subarray(start, nl));
    start = nl + 1;
  }
  if (start < raw.length) lines.push(raw.subarray(start));
  return lines;
}

function parseMetadata(m: Record<string, string> | undefined): StagedBatchMetadata | undefined {
  if (!m?.objectid || m.batchindex === undefined) return undefined;
  const num = (v: string | undefined) => (v !== undefined && /^\d+$/.test(v) ? Number(v) : Number.NaN);
  const meta = {
    objectId: safeDecode(m.objectid),
    batchIndex: num(m.batchindex),
    recordCount: num(m.recordcount),
    rawBytes: num(m.rawbytes),
    source: safeDecode(m.source ?? ''),
  };
  return Number.isNaN(meta.batchIndex) || Number.isNaN(meta.recordCount) || Number.isNaN(meta.rawBytes)
    ? undefined
    : meta;
}

function safeDecode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}
