import zlib from 'node:zlib';
import { canonical } from '@logferry/shared/testing';

/** Test corpus: Code42-like file events in the document shapes s3-fetcher reads. */

export type Rec = Record<string, unknown>;

export function code42Event(i: number, base = Date.UTC(2024, 0, 15, 12, 0, 0)): Rec {
  return {
    '@timestamp': new Date(base + i * 1000).toISOString(),
    event: { id: `evt-${i}`, action: i % 3 === 0 ? 'file-created' : 'file-modified', observer: 'Endpoint' },
    user: { email: `user${i % 97}@example.com`, id: `u-${i % 97}` },
    file: {
      name: `report "${i}" [draft].docx`,
      directory: 'C:\\Users\\x\\',
      sizeInBytes: i * 13,
      hash: { md5: 'd41d8cd98f00b204e9800998ecf8427e' },
    },
    risk: { score: i % 10, indicators: [{ name: 'Remote', weight: 1 }] },
  };
}

export function ndjson(records: readonly Rec[]): Buffer {
  return Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export function gzipNdjson(records: readonly Rec[]): Buffer {
  return zlib.gzipSync(ndjson(records), { level: 1 });
}

export function csv(header: readonly string[], rows: readonly (readonly string[])[]): Buffer {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
  return Buffer.from([header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n'));
}

export function multiset(records: readonly unknown[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    const k = canonical(r);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

const ADDED = ['TimeGenerated', '_SourceBucket', '_SourceKey', '_SourceLine', '_SourceVersion'];

/** A staged record without the fields s3-fetcher adds. */
export function withoutEnrichment(r: Rec): Rec {
  const copy = { ...r };
  for (const k of ADDED) delete copy[k];
  return copy;
}
