import zlib from 'node:zlib';

/**
 * The floor the fetcher is measured against: the least work that does the same job, in one tight
 * synchronous loop on one core: gunzip, JSON.parse each line, JSON.stringify it, gzip batches of the
 * same size limit at the same level. No I/O, no enrichment, no streaming.
 */
export function runFloor(gz: Buffer, maxBatchBytes: number, gzipLevel: number): { records: number; outBytes: number } {
  const text = zlib.gunzipSync(gz).toString();
  let records = 0;
  let outBytes = 0;
  let batch: string[] = [];
  let batchBytes = 2;
  const flush = () => {
    outBytes += zlib.gzipSync(batch.join('\n'), { level: gzipLevel }).length;
    batch = [];
    batchBytes = 2;
  };
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
    if (nl > start) {
      const out = JSON.stringify(JSON.parse(text.slice(start, nl)));
      if (batchBytes + out.length + 1 > maxBatchBytes) flush();
      batch.push(out);
      batchBytes += out.length + 1;
      records++;
    }
    start = nl + 1;
  }
  if (batch.length > 0) flush();
  return { records, outBytes };
}
