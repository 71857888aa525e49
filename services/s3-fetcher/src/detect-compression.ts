import zlib from 'node:zlib';
import { DocumentError } from './document-error.ts';

export type Compression = 'gzip' | 'zstd' | 'none';

// Objects are named by producers we do not control (`.json` that is gzip, `.gz` that is plain):
// the magic bytes are the only trustworthy signal.
export function detectCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export interface DecompressOptions {
  /** Bytes of decompressed output after which the document is refused (gzip bombs). */
  readonly maxDecompressedBytes: number;
  /** Called once, as soon as the compression is known. */
  readonly onDetected?: (compression: Compression) => void;
}

// Larger than zlib's 16 KiB default: fewer chunks means fewer async iterations downstream.
const OUTPUT_CHUNK = 64 * 1024;

/**
 * Yields the decompressed bytes of `source` (gzip, zstd, or passed through when neither). Errors of the
 * source (the S3 stream) propagate as they are, so the caller can tell a network fault (retry) from a
 * corrupt document (dead-letter).
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  options: DecompressOptions,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let exhausted = false;
  try {
    while (headBytes < 4) {
      const next = await iterator.next();
      if (next.done) {
        exhausted = true;
        break;
      }
      const chunk = toBuffer(next.value);
      head.push(chunk);
      headBytes += chunk.length;
    }
    const compression = detectCompression(head.length === 1 ? head[0]! : Buffer.concat(head));
    options.onDetected?.(compression);
    const rest = remaining(head, exhausted ? undefined : iterator);
    if (compression === 'none') {
      yield* rest;
      return;
    }
    yield* inflate(rest, compression, options.maxDecompressedBytes);
  } finally {
    // Stops the S3 download when the consumer stops early (abort, limit, failure).
    if (!exhausted) await iterator.return?.();
  }
}

async function* remaining(head: Buffer[], iterator: AsyncIterator<Uint8Array> | undefined): AsyncGenerator<Buffer> {
  for (const chunk of head) yield chunk;
  if (!iterator) return;
  for (;;) {
    const next = await iterator.next();
    if (next.done) return;
    yield toBuffer(next.value);
  }
}

async function* inflate(
  input: AsyncGenerator<Buffer>,
  compression: 'gzip' | 'zstd',
  maxBytes: number,
): AsyncGenerator<Buffer> {
  const z =
    compression === 'gzip'
      ? zlib.createGunzip({ chunkSize: OUTPUT_CHUNK })
      : zlib.createZstdDecompress({ chunkSize: OUTPUT_CHUNK });
  let sourceError: unknown;
  let stopped = false;
  // Only errors of the input itself land here; zlib's own errors surface through the iteration below.
  const pump = (async () => {
    try {
      for await (const chunk of input) {
        if (stopped || z.destroyed) break;
        if (!z.write(chunk)) await drained(z);
      }
      if (!stopped && !z.destroyed) z.end();
    } catch (err) {
      sourceError = err;
      z.destroy(err as Error);
    }
  })();
  let produced = 0;
  try {
    for await (const out of z as AsyncIterable<Buffer>) {
      produced += out.length;
      if (produced > maxBytes) {
        throw new DocumentError(
          'DecompressionLimit',
          `decompressed size exceeds MAX_DECOMPRESSED_BYTES (${maxBytes} bytes); refusing a possible decompression bomb`,
        );
      }
      yield out;
    }
  } catch (err) {
    if (err instanceof DocumentError) throw err;
    if (sourceError !== undefined) throw sourceError;
    throw new DocumentError('CorruptCompression', `${compression} stream is corrupt: ${(err as Error).message}`);
  } finally {
    stopped = true;
    z.destroy();
    await pump;
    await input.return(undefined);
  }
  if (sourceError !== undefined) throw sourceError;
}

function drained(stream: zlib.Gunzip | zlib.ZstdDecompress): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

function toBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}
