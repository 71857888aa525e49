import type { TimeFormat } from '@logferry/shared/routes/index';
import type { DecodedRecord, JsonRecord } from './decode-records.ts';

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
  const fields: FieldPath[] = (options.timeField ? [options.timeField] : DEFAULT_TIME_FIELDS).map((name) => ({
    name,
    path: name.includes('.') ? name.split('.') : undefined,
  }));
  const fallbackTime = toIsoTime(options.fallbackTime) ?? new Date().toISOString();
  const readTime = timeReader(options.timeFormat ?? 'auto');
  const sourceTail =
    `,"_SourceBucket":${JSON.stringify(options.bucket)},"_SourceKey":${JSON.stringify(options.key)}` +
    (options.versionId ? `,"_SourceVersion":${JSON.stringify(options.versionId)}` : '');
  // Times and line numbers are ASCII: when bucket, key and version are too, the tail's length is its size.
  const asciiTail = Buffer.byteLength(sourceTail) === sourceTail.length;
  let timeFallbacks = 0;

  const eventTime = (value: JsonRecord): string => {
    for (const f of fields) {
      let v = value[f.name];
      if (v === undefined && f.path) v = dig(value, f.path);
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
      const { value, raw, position } = record;
      const time = eventTime(value);
      if (raw !== undefined && raw.length > 2 && !hasAddedField(value) && hasAnyKey(value)) {
        const head = raw.subarray(0, raw.length - 1);
        const tail = `,"TimeGenerated":"${time}"${sourceTail},"_SourceLine":${position}}`;
        return { head, tail, bytes: head.length + (asciiTail ? tail.length : Buffer.byteLength(tail)) };
      }
      const enriched: JsonRecord = {
        ...value,
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

function dig(value: JsonRecord, path: readonly string[]): unknown {
  let v: unknown = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as JsonRecord)[p];
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
