/** Comparing what reached the Logs Ingestion stand-in with what the corpus put in S3, record by record. */
import { canonical } from '@logferry/shared/testing';

export type Rec = Record<string, unknown>;

export { canonical };

export type Multiset = Map<string, number>;

export function multiset(texts: Iterable<string>): Multiset {
  const m: Multiset = new Map();
  for (const t of texts) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** What the sink holds against what was expected: records missing, records never sent, and extra copies. */
export interface RecordDiff {
  readonly expected: number;
  readonly received: number;
  /** Expected records the sink does not hold (counted with multiplicity). */
  readonly missing: number;
  /** Records the sink holds that no object contained. */
  readonly unexpected: number;
  /** Extra copies of expected records (the at-least-once window). */
  readonly duplicates: number;
  readonly missingSamples: readonly string[];
  readonly unexpectedSamples: readonly string[];
}

export function diffRecords(expected: Multiset, received: Multiset): RecordDiff {
  let missing = 0;
  let unexpected = 0;
  let duplicates = 0;
  let expectedCount = 0;
  let receivedCount = 0;
  const missingSamples: string[] = [];
  const unexpectedSamples: string[] = [];
  for (const [text, want] of expected) {
    expectedCount += want;
    const got = received.get(text) ?? 0;
    if (got < want) {
      missing += want - got;
      if (missingSamples.length < 5) missingSamples.push(text.slice(0, 300));
    } else duplicates += got - want;
  }
  for (const [text, got] of received) {
    receivedCount += got;
    if (expected.has(text)) continue;
    unexpected += got;
    if (unexpectedSamples.length < 5) unexpectedSamples.push(text.slice(0, 300));
  }
  return {
    expected: expectedCount,
    received: receivedCount,
    missing,
    unexpected,
    duplicates,
    missingSamples,
    unexpectedSamples,
  };
}

export function describeDiff(d: RecordDiff): string {
  return [
    `expected ${d.expected}, received ${d.received}: ${d.missing} missing, ${d.unexpected} unexpected, ${d.duplicates} duplicate(s)`,
    ...d.missingSamples.map((s) => `  missing:    ${s}`),
    ...d.unexpectedSamples.map((s) => `  unexpected: ${s}`),
  ].join('\n');
}

/** The fields s3-fetcher adds to every record on its way to the sink. */
export const ENRICHMENT_FIELDS = ['TimeGenerated', '_SourceBucket', '_SourceKey', '_SourceLine', '_SourceVersion'];

/**
 * A record as the corpus knows it: its original fields plus the object it came from. The identity of
 * the source (bucket, key) stays in the comparison so a record staged from the wrong object counts as
 * unexpected; TimeGenerated and _SourceLine are checked here and then left out, since the expected side
 * cannot know the line of a record in a pretty-printed array without reimplementing the decoder.
 */
export function sinkRecordKey(record: Rec, problems: string[]): string {
  const rest: Rec = { ...record };
  for (const f of ENRICHMENT_FIELDS) delete rest[f];
  const time = record.TimeGenerated;
  if (typeof time !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(time)) {
    problems.push(`TimeGenerated is not ISO 8601 UTC: ${JSON.stringify(time)}`);
  } else {
    const own = eventTimeOf(rest);
    if (own !== undefined && own !== time) problems.push(`TimeGenerated ${time} is not the record's time ${own}`);
  }
  const line = record._SourceLine;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 1) {
    problems.push(`_SourceLine is not a positive integer: ${JSON.stringify(line)}`);
  }
  return expectedRecordKey(String(record._SourceBucket), String(record._SourceKey), rest);
}

export function expectedRecordKey(bucket: string, key: string, record: Rec): string {
  return canonical({ record, bucket, key });
}

/** The corpus puts each record's event time in `@timestamp` (JSON) or `timestamp` (CSV), always ISO with ms. */
function eventTimeOf(record: Rec): string | undefined {
  const t = record['@timestamp'] ?? record.timestamp;
  return typeof t === 'string' ? new Date(t).toISOString() : undefined;
}

/** Multiset of the sink's records, with the enrichment problems found on the way (a few samples). */
export function sinkMultiset(records: readonly unknown[]): { set: Multiset; problems: string[] } {
  const problems: string[] = [];
  const set: Multiset = new Map();
  let count = 0;
  for (const r of records) {
    const found: string[] = [];
    const k = sinkRecordKey(r as Rec, found);
    set.set(k, (set.get(k) ?? 0) + 1);
    count += found.length;
    if (problems.length < 10) problems.push(...found);
  }
  if (count > problems.length) problems.push(`… ${count - problems.length} more`);
  return { set, problems };
}
