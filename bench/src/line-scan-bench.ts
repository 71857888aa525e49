import { lineScanPlan } from '../../services/s3-fetcher/src/enrich.ts';
import { createLineScanner, ScannedRecord } from '../../services/s3-fetcher/src/scan-json-line.ts';
import { ndjsonChunks } from './fetcher-corpus.ts';
import type { Row } from './table.ts';

/** The corpus's lines, each its own Buffer as the line splitter hands them to the decoder. */
export async function corpusLines(records: number): Promise<Buffer[]> {
  const lines: Buffer[] = [];
  for await (const chunk of ndjsonChunks(0, records)) {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      lines.push(chunk.subarray(start, nl));
      start = nl + 1;
    }
  }
  return lines;
}

function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/**
 * What s3-fetcher's decoder pays per line to validate it and read its time field: JSON.parse of the line's
 * text (the whole record built) against the byte scan (scan-json-line.ts) and a parse of the one field,
 * alternated in one run, least CPU of `runs`.
 */
export async function runLineScanBench(records: number, runs = 5): Promise<Row> {
  const lines = await corpusLines(records);
  const plan = lineScanPlan(undefined);
  const scan = createLineScanner(plan);
  let times = 0;
  const parseAll = () => {
    for (const line of lines) if (typeof JSON.parse(line.toString())['@timestamp'] === 'string') times++;
  };
  const scanAll = () => {
    for (const line of lines) {
      const spans = scan(line);
      if (spans && typeof new ScannedRecord(line, 1, plan.read, spans).field('@timestamp') === 'string') times++;
    }
  };
  parseAll();
  scanAll();
  let parseMs = Number.POSITIVE_INFINITY;
  let scanMs = Number.POSITIVE_INFINITY;
  for (let r = 0; r < runs; r++) {
    parseMs = Math.min(parseMs, cpuMs(parseAll));
    scanMs = Math.min(scanMs, cpuMs(scanAll));
  }
  if (times !== 2 * lines.length * (runs + 1))
    throw new Error('a corpus line lacked its time, or the scan left it to JSON.parse');
  const perLine = (ms: number) => ((ms * 1000) / lines.length).toFixed(2);
  return [
    'line scan vs JSON.parse',
    `${(scanMs / parseMs).toFixed(2)}×`,
    `CPU per line, validating and reading @timestamp: scan ${perLine(scanMs)} µs, JSON.parse ${perLine(parseMs)} µs (${lines.length} lines, best of ${runs} each)`,
  ];
}
