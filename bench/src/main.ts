// `npm run bench`: prints throughput and memory figures measured in this run, each next to an
// in-run baseline. Never asserts on time: the figures depend on the machine.
//   BENCH_RECORDS=n   records in the in-memory corpus (default 100000, ~120 MB raw)
//   BENCH_LARGE=1     fetch a 1 GB (uncompressed) object for the peak RSS figure (default 256 MB)
import { runFetcherBench } from './fetcher-bench.ts';
import { formatTable } from './table.ts';

const records = Number(process.env.BENCH_RECORDS ?? 100_000);
const largeBytes = process.env.BENCH_LARGE === '1' ? 1024 ** 3 : 256 * 1024 ** 2;
const progress = (line: string) => process.stderr.write(`… ${line}\n`);

const fetcher = await runFetcherBench({ records, largeBytes, progress });
console.log(
  formatTable(`s3-fetcher (Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs)`, fetcher),
);
