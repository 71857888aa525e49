import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import zlib from 'node:zlib';
import { decompress, detectCompression } from '../../src/detect-compression.ts';
import { DocumentError } from '../../src/document-error.ts';

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function inflateAll(buf: Buffer, size = 7, maxDecompressedBytes = 1e9) {
  const out: Buffer[] = [];
  let detected: string | undefined;
  for await (const c of decompress(chunked(buf, size), {
    maxDecompressedBytes,
    onDetected: (d) => {
      detected = d;
    },
  })) {
    out.push(c);
  }
  return { text: Buffer.concat(out).toString(), detected };
}

async function rejectsWith(p: Promise<unknown>, reason: string) {
  await assert.rejects(p, (err: unknown) => err instanceof DocumentError && err.reason === reason);
}

const TEXT = '{"a":1}\n{"b":2}\n'.repeat(50);

describe('detectCompression', () => {
  it('goes by magic bytes, not names', () => {
    assert.equal(detectCompression(zlib.gzipSync('x')), 'gzip');
    assert.equal(detectCompression(zlib.zstdCompressSync(Buffer.from('x'))), 'zstd');
    assert.equal(detectCompression(Buffer.from('{"a":1}')), 'none');
    assert.equal(detectCompression(Buffer.from([0x1f])), 'none');
  });
});

describe('decompress', () => {
  it('passes plain text through, even shorter than a magic number', async () => {
    assert.deepEqual(await inflateAll(Buffer.from(TEXT)), { text: TEXT, detected: 'none' });
    assert.deepEqual(await inflateAll(Buffer.from('ab'), 1), { text: 'ab', detected: 'none' });
    assert.deepEqual(await inflateAll(Buffer.alloc(0)), { text: '', detected: 'none' });
  });

  it('inflates gzip, including concatenated members, split at odd chunk sizes', async () => {
    assert.deepEqual(await inflateAll(zlib.gzipSync(TEXT), 1), { text: TEXT, detected: 'gzip' });
    const two = Buffer.concat([zlib.gzipSync('first\n'), zlib.gzipSync('second\n')]);
    assert.equal((await inflateAll(two, 5)).text, 'first\nsecond\n');
  });

  it('inflates zstd', async () => {
    assert.deepEqual(await inflateAll(zlib.zstdCompressSync(Buffer.from(TEXT)), 3), { text: TEXT, detected: 'zstd' });
  });

  it('reports corrupt and truncated gzip as CorruptCompression', async () => {
    const gz = zlib.gzipSync(TEXT);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 12, 40);
    await rejectsWith(inflateAll(corrupt), 'CorruptCompression');
    await rejectsWith(inflateAll(gz.subarray(0, gz.length - 10)), 'CorruptCompression');
    await rejectsWith(inflateAll(Buffer.from([0x1f, 0x8b, 0x00, 0x00, 0x00])), 'CorruptCompression');
  });

  it('stops a gzip bomb at the decompressed-size limit', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(5 * 1024 * 1024));
    assert.ok(bomb.length < 10_000);
    await rejectsWith(inflateAll(bomb, 1024, 1024 * 1024), 'DecompressionLimit');
  });

  it('passes a source error through unchanged (a network fault is not a corrupt document)', async () => {
    const boom = new Error('socket hang up');
    async function* failing(): AsyncGenerator<Buffer> {
      yield zlib.gzipSync(TEXT).subarray(0, 20);
      throw boom;
    }
    await assert.rejects(
      (async () => {
        for await (const _ of decompress(failing(), { maxDecompressedBytes: 1e9 })) {
          // drain
        }
      })(),
      (err) => err === boom,
    );
  });

  it('closes the source when the consumer stops early', async () => {
    let closed = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        const gz = zlib.gzipSync(Buffer.alloc(1024 * 1024, 'a'));
        yield* chunked(gz, 64);
      } finally {
        closed = true;
      }
    }
    for await (const _ of decompress(source(), { maxDecompressedBytes: 1e9 })) break;
    assert.equal(closed, true);
  });
});
