import { Readable } from 'node:stream';
import zlib from 'node:zlib';

/**
 * A Code42 / Incydr-like file event (about 1.3 KB of JSON): nested objects, arrays, strings with
 * quotes, backslashes and unicode, as the real exports have.
 */
export function code42Event(i: number): Record<string, unknown> {
  const t = new Date(Date.UTC(2024, 0, 1) + i * 37).toISOString();
  return {
    '@timestamp': t,
    event: {
      id: `0_${(i * 2654435761) % 4294967296}_${i}`,
      inserted: t,
      action: ['file-created', 'file-modified', 'file-deleted', 'removable-media-created'][i % 4],
      observer: 'Endpoint',
      shareType: [],
      detectorDisplayName: null,
    },
    user: { email: `user${i % 997}@example.com`, id: `${9e15 + (i % 997)}`, deviceUid: `${1e18 + (i % 5003)}` },
    file: {
      path: `C:\\Users\\user${i % 997}\\Documents\\Projekt ${i % 31}\\`,
      name: `Q${i % 4} report "draft ${i % 13}" — ünïcødé.xlsx`,
      directoryId: [],
      category: 'Spreadsheet',
      mimeTypeByBytes: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      sizeInBytes: (i * 7919) % 10_000_000,
      owner: `user${i % 997}`,
      created: t,
      modified: t,
      hash: {
        md5: 'd41d8cd98f00b204e9800998ecf8427e',
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    },
    source: {
      category: 'Device',
      name: `LAPTOP-${i % 5003}`,
      domain: 'corp.example.com',
      ip: `10.${i % 256}.${(i >> 8) % 256}.7`,
    },
    destination: {
      category: null,
      name: null,
      removableMedia: i % 4 === 3 ? { vendor: 'SanDisk', capacity: 64e9 } : null,
    },
    process: {
      executable: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE',
      owner: `CORP\\user${i % 997}`,
    },
    risk: {
      score: i % 20,
      severity: ['LOW', 'MODERATE', 'HIGH', 'CRITICAL'][i % 4],
      indicators: [
        { name: 'Spreadsheet', weight: 0 },
        { name: 'Remote', weight: i % 3 },
      ],
      trusted: false,
      trustReason: null,
    },
  };
}

/** The NDJSON text of records [from, to), generated lazily in ~1 MB chunks. */
export async function* ndjsonChunks(from: number, to: number): AsyncGenerator<Buffer> {
  let lines: string[] = [];
  let bytes = 0;
  for (let i = from; i < to; i++) {
    const line = `${JSON.stringify(code42Event(i))}\n`;
    lines.push(line);
    bytes += line.length;
    if (bytes >= 1 << 20) {
      yield Buffer.from(lines.join(''));
      lines = [];
      bytes = 0;
    }
  }
  if (lines.length > 0) yield Buffer.from(lines.join(''));
}

/** A streamed gzip NDJSON body of `count` records (never whole in memory). */
export function gzipNdjsonStream(count: number, level = 6): Readable {
  return Readable.from(ndjsonChunks(0, count)).pipe(zlib.createGzip({ level }));
}

/** A gzip NDJSON corpus in memory, with its uncompressed size. */
export async function gzipNdjsonCorpus(count: number, level = 6): Promise<{ gz: Buffer; rawBytes: number }> {
  const parts: Buffer[] = [];
  let rawBytes = 0;
  for await (const chunk of ndjsonChunks(0, count)) {
    rawBytes += chunk.length;
    parts.push(chunk);
  }
  return { gz: zlib.gzipSync(Buffer.concat(parts), { level }), rawBytes };
}

/** The corpus as the S3 body stream would deliver it (64 KiB chunks). */
export async function* chunksOf(buf: Buffer, size = 64 * 1024): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}
