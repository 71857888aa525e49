import { promisify } from 'node:util';
import zlib from 'node:zlib';
import type { AbortSignalLike } from '@azure/abort-controller';
import type { ContainerClient } from '@azure/storage-blob';

/**
 * The staged batch format of message schema v1: gzip NDJSON, one record per line. s3-fetcher no longer
 * writes it; la-uploader reads it while v1 messages may still be in flight (a queue drained after an
 * upgrade, a dead-lettered batch replayed later). Remove once no v1 message can remain.
 */

const gunzip = promisify(zlib.gunzip);
const NEWLINE = 0x0a;

export interface NdjsonBatch {
  readonly compressedBytes: number;
  readonly rawBytes: number;
  /** One Buffer per record (JSON object text, no newline). */
  readonly lines: readonly Buffer[];
}

/**
 * Downloads and inflates a v1 staged batch (small, so read whole). A missing blob throws the SDK's
 * RestError with statusCode 404; inflating past maxRawBytes throws a RangeError.
 */
export async function readNdjsonBatch(
  container: ContainerClient,
  blobName: string,
  options: { readonly maxRawBytes: number; readonly abortSignal?: AbortSignalLike },
): Promise<NdjsonBatch> {
  const signal = options.abortSignal ? { abortSignal: options.abortSignal } : {};
  const response = await container.getBlobClient(blobName).download(0, undefined, signal);
  const chunks: Buffer[] = [];
  for await (const chunk of response.readableStreamBody ?? []) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const raw = await gunzip(body, { maxOutputLength: options.maxRawBytes });
  return { compressedBytes: body.length, rawBytes: raw.length, lines: splitNdjson(raw) };
}

/** The lines as one JSON array, joined verbatim (re-serializing could change the sizes s3-fetcher measured). */
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
