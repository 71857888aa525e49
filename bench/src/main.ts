// `npm run bench`: prints throughput and memory figures measured in this run, each next to an
// in-run baseline. Never asserts on time: the figures depend on the machine.
//   BENCH_RECORDS=n   records in the in-memory corpus (default 100000, ~120 MB raw)
//   BENCH_LARGE_MB=n  size (uncompressed) of the object fetched for the peak RSS figure (default 1024)
//   BENCH_E2E_RECORDS, BENCH_E2E_OBJECTS, BENCH_UPLOADER_CONCURRENCY (default 4): the end-to-end run
//   BENCH_E2E_WARMUP=n records through the services before the measured run (default 20000)
//   BENCH_E2E_ROUNDS=n times the measured corpus goes through; the best round is reported (default 3, as the floor)
//   BENCH_STEP_BATCHES=n batches each la-uploader step is measured over (default 400)
//   BENCH_SCAN_BLOBS=n unchanged blobs in the blob-flow rescan (default 20000)
import { runFetcherBench } from './fetcher-bench.ts';
import { formatTable } from './table.ts';

const records = Number(process.env.BENCH_RECORDS ?? 100_000);
const largeBytes = Number(process.env.BENCH_LARGE_MB ?? 1024) * 1024 ** 2;
const progress = (line: string) => process.stderr.write(`… ${line}\n`);

const fetcher = await runFetcherBench({ records, largeBytes, progress });
console.log(
  formatTable(`s3-fetcher (Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs)`, fetcher.rows),
);

// End to end through the three services as processes (test/src/s3-flow.ts starts them on the local stack).
const e2e = await (await import('./e2e-bench.ts')).runE2eBench({
  records: Number(process.env.BENCH_E2E_RECORDS ?? 100_000),
  objects: Number(process.env.BENCH_E2E_OBJECTS ?? 10),
  uploaderConcurrency: Number(process.env.BENCH_UPLOADER_CONCURRENCY ?? 4),
  warmupRecords: Number(process.env.BENCH_E2E_WARMUP ?? 20_000),
  rounds: Number(process.env.BENCH_E2E_ROUNDS ?? 3),
  floor: fetcher.floor,
  progress,
});
console.log(formatTable('end to end: sqs-poller → s3-fetcher → la-uploader (3 processes, local stand-ins)', e2e.rows));

// What each of la-uploader's requests for one batch costs on its own, beside the end-to-end figure.
const steps = await (await import('./uploader-steps-bench.ts')).runUploaderStepsBench({
  batches: Number(process.env.BENCH_STEP_BATCHES ?? 400),
  floor: fetcher.floor,
  recordsPerBatch: e2e.recordsPerBatch,
  progress,
});
console.log(formatTable('la-uploader, one batch step by step (each request alone, client CPU)', steps));

const scan = await (await import('./blob-scan-bench.ts')).runBlobScanBench({
  blobs: Number(process.env.BENCH_SCAN_BLOBS ?? 20_000),
  progress,
});
console.log(formatTable('blob flow: blob-scanner against Azurite', scan));
