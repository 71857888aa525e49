import type { TimeFormat } from '@logferry/shared/routes/index';
import type { DecodedRecord, JsonRecord } from './decode-records.ts';
import type { LineScanPlan } from './scan-json-line.ts';

/** Where Code42 / Incydr and common log formats keep the event time, tried in order when TIME_FIELD is unset. */
export const DEFAULT_TIME_FIELDS = ['@timestamp', 'timestamp', 'eventTimestamp', 'event.created', 'eventTime'] as const;

const ADDED_FIELDS = ['TimeGenerated', '_SourceBucket', '_SourceKey', '_SourceLine', '_SourceVersion'];

export interface EnrichOptions {
  /** A field name or dotted path; undefined tries DEFAULT_TIME_FIELDS. */
  readonly timeField: string | undefined;
  /** How the time field is read (the route's timeFormat); default auto. */
  readonly timeFormat?: TimeFormat;
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
  /** ISO time used when a record has no readable event time (the object's event time, else now). */
  readonly fallbackTime: string;
}

/** One enriched record as JSON text: `head` followed by `tail` (UTF-8, when present), no newline. */
export interface SerializedRecord {
  readonly head: Buffer;
  readonly tail: string | undefined;
  /** UTF-8 bytes of head + tail. */
  readonly bytes: number;
}

export interface Enricher {
  serialize(record: DecodedRecord): SerializedRecord;
  /** Records whose TimeGenerated fell back to the object's time. */
  readonly timeFallbacks: number;
}

interface FieldPath {
  readonly name: string;
  readonly path: readonly string[] | undefined;
}

/**
 * Adds TimeGenerated (from the record's own event time, ISO 8601 UTC) and the source fields. A record
 * whose original JSON text is at hand keeps it verbatim and gets the fields appended before its
 * closing brace: no re-serialization on the hot path. Records that already carry one of the added
 * fields are re-serialized so ours win and no key appears twice.
 */
export function createEnricher(options: EnrichOptions): Enricher {
  const fields = timeFieldPaths(options.timeField);
  const fallbackTime = toIsoTime(options.fallbackTime) ?? new Date().toISOString();
  const readTime = timeReader(options.timeFormat ?? 'auto');
  const sourceTail =
    `,"_SourceBucket":${JSON.stringify(options.bucket)},"_SourceKey":${JSON.stringify(options.key)}` +
    (options.versionId ? `,"_SourceVersion":${JSON.stringify(options.versionId)}` : '');
  // Times and line numbers are ASCII: when bucket, key and version are too, the tail's length is its size.
  const asciiTail = Buffer.byteLength(sourceTail) === sourceTail.length;
  let timeFallbacks = 0;

  const eventTime = (record: DecodedRecord): string => {
    // Never record.value on a scanned record: that getter parses the whole line.
    const field = (name: string) => (record.field ? record.field(name) : record.value[name]);
    for (const f of fields) {
      let v = field(f.name);
      if (v === undefined && f.path) v = dig(field(f.path[0]!), f.path);
      if (v === undefined || v === null) continue;
      const iso = readTime(v);
      if (iso) return iso;
    }
    timeFallbacks++;
    return fallbackTime;
  };

  return {
    get timeFallbacks() {
      return timeFallbacks;
    },
    serialize(record) {
      const time = eventTime(record);
      const { raw, position } = record;
      // A scanned record is known to qualify (see DecodedRecord.field) without building its value.
      if (
        raw !== undefined &&
        (record.field || (raw.length > 2 && !hasAddedField(record.value) && hasAnyKey(record.value)))
      ) {
        const head = raw.subarray(0, raw.length - 1);
        const tail = `,"TimeGenerated":"${time}"${sourceTail},"_SourceLine":${position}}`;
        return { head, tail, bytes: head.length + (asciiTail ? tail.length : Buffer.byteLength(tail)) };
      }
      const enriched: JsonRecord = {
        ...record.value,
        TimeGenerated: time,
        _SourceBucket: options.bucket,
        _SourceKey: options.key,
      };
      if (options.versionId) enriched._SourceVersion = options.versionId;
      enriched._SourceLine = position;
      const head = Buffer.from(JSON.stringify(enriched));
      return { head, tail: undefined, bytes: head.length };
    },
  };
}

function timeFieldPaths(timeField: string | undefined): FieldPath[] {
  return (timeField ? [timeField] : DEFAULT_TIME_FIELDS).map((name) => ({
    name,
    path: name.includes('.') ? name.split('.') : undefined,
  }));
}

/**
 * The top-level fields the enricher reads from a record whose text it appends to: each time field (a dotted
 * one both as a literal key and as its first segment). A record with one of ours is re-serialized whole.
 */
export function lineScanPlan(timeField: string | undefined): LineScanPlan {
  const read = new Set<string>();
  for (const f of timeFieldPaths(timeField)) {
    read.add(f.name);
    if (f.path) read.add(f.path[0]!);
  }
  return { read: [...read], parseIf: ADDED_FIELDS };
}

const CANONICAL_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const NUMERIC = /^-?\d+(\.\d+)?$/;
const HAS_ZONE = /(z|[+-]\d\d(:?\d\d)?)$/i;
const MAX_DATE_MS = 8.64e15;

/**
 * A time value as ISO 8601 UTC with milliseconds: ISO strings (with or without offset; none means
 * UTC, never the host's zone), `yyyy-mm-dd hh:mm:ss`, and epoch numbers in s, ms, µs or ns.
 */
export function toIsoTime(v: unknown): string | undefined {
  if (typeof v === 'number') return fromEpoch(v);
  if (typeof v !== 'string') return undefined;
  if (CANONICAL_ISO.test(v)) return v;
  const s = v.trim();
  if (s.length === 0) return undefined;
  if (NUMERIC.test(s)) return fromEpoch(Number(s));
  const iso = /^\d{4}-\d\d-\d\d \d/.test(s) ? `${s.slice(0, 10)}T${s.slice(11)}` : s;
  const ms = Date.parse(iso.length > 10 && !HAS_ZONE.test(iso) ? `${iso}Z` : iso);
  return valid(ms);
}

/**
 * The reader of a route's timeFormat. A stated unit is taken at its word (epoch-seconds 1700000000.5,
 * epoch-millis 1700000000500, numbers or numeric strings); iso8601 takes only date strings, so a stray
 * number is a fallback rather than a guess.
 */
export function timeReader(format: TimeFormat): (v: unknown) => string | undefined {
  if (format === 'auto') return toIsoTime;
  if (format === 'iso8601') return (v) => (typeof v === 'string' && !NUMERIC.test(v.trim()) ? toIsoTime(v) : undefined);
  const scale = format === 'epoch-seconds' ? 1000 : 1;
  return (v) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && NUMERIC.test(v.trim()) ? Number(v) : Number.NaN;
    return Number.isFinite(n) ? valid(Math.round(n * scale)) : undefined;
  };
}

function fromEpoch(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const abs = Math.abs(n);
  const ms = abs < 1e11 ? n * 1000 : abs < 1e14 ? n : abs < 1e17 ? n / 1e3 : n / 1e6;
  return valid(Math.round(ms));
}

function valid(ms: number): string | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : undefined;
}

/** The value at `path` below `top`, the record's field named path[0]. */
function dig(top: unknown, path: readonly string[]): unknown {
  let v = top;
  for (let k = 1; k < path.length; k++) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as JsonRecord)[path[k]!];
  }
  return v;
}

function hasAddedField(value: JsonRecord): boolean {
  for (const f of ADDED_FIELDS) if (Object.hasOwn(value, f)) return true;
  return false;
}

function hasAnyKey(value: JsonRecord): boolean {
  for (const _ in value) return true;
  return false;
}
