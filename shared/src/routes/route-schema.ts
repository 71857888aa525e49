import { z } from 'zod';
import type { SourceNameResult } from '../messages/source-name.ts';

/** How an object's bytes (after decompression) are read into records. */
export const ROUTE_FORMATS = ['auto', 'ndjson', 'json', 'csv', 'space-delimited'] as const;
export type RouteFormat = (typeof ROUTE_FORMATS)[number];

/** How the time field's value is read; `auto` takes ISO 8601 strings and epoch numbers in s, ms, µs or ns. */
export const TIME_FORMATS = ['auto', 'iso8601', 'epoch-seconds', 'epoch-millis'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

// Bucket names as S3 allows them today (3–63 lowercase letters, digits, dots, hyphens).
export const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const DCR_STREAM_NAME = /^(Custom|Microsoft)-[A-Za-z0-9_-]{1,200}$/;
export const DCR_IMMUTABLE_ID = /^dcr-[0-9a-f]{32}$/i;

const MatchSchema = z
  .strictObject({
    bucket: z.string().regex(BUCKET_NAME, 'must be an S3 bucket name (3–63 of a-z 0-9 . -)'),
    /** Literal key prefix; "" (the default when neither is given) is the whole bucket. */
    prefix: z.string().max(1024).optional(),
    /** `*` any characters but `/`, `**` any characters, `?` one character but `/`; matched against the whole key. */
    glob: z.string().min(1).max(1024).optional(),
  })
  .refine((m) => m.prefix === undefined || m.glob === undefined, 'give prefix or glob, not both');

export const LogsIngestionDestinationSchema = z.strictObject({
  stream: z.string().regex(DCR_STREAM_NAME, 'expected a DCR stream name such as Custom-Code42Events_CL'),
  /** The DCR's immutable id; unset: la-uploader's DCR_IMMUTABLE_ID. */
  dcr: z
    .string()
    .regex(DCR_IMMUTABLE_ID, 'expected the DCR immutable id (dcr- and 32 hex digits), not its resource id')
    .optional(),
});
export type LogsIngestionDestination = z.output<typeof LogsIngestionDestinationSchema>;

export const RouteEntrySchema = z
  .strictObject({
    description: z.string().max(1000).optional(),
    match: z.union([MatchSchema, z.array(MatchSchema).min(1)]),
    format: z.enum(ROUTE_FORMATS).default('auto'),
    /** A field name or dotted path; unset: the default list (@timestamp, timestamp, …). */
    timeField: z.string().min(1).max(256).optional(),
    timeFormat: z.enum(TIME_FORMATS).default('auto'),
    logsIngestion: LogsIngestionDestinationSchema.optional(),
    /** The batches also go to ADX, with the mappings.json entry named after this route. */
    adx: z.boolean().default(false),
  })
  .refine((r) => r.logsIngestion !== undefined || r.adx, {
    message: 'the route sends its records nowhere: give logsIngestion.stream, or adx: true, or both',
  });

/**
 * The file: an object of routes keyed by source name. The name is what staged batches carry (a source name:
 * letters, digits, _ and -) and what mappings.json entries are looked up by (letters, digits, _ and .), so it
 * keeps to what both allow. Keys starting with '$' ("$schema", "$comment") are ignored.
 */
export const ROUTE_NAME = /^[A-Za-z0-9][A-Za-z0-9_]{0,63}$/;
export const RoutesFileSchema = z.record(z.string(), z.unknown());

export interface RouteMatch {
  readonly bucket: string;
  /** Literal text every matching key starts with (the glob's text before its first wildcard). */
  readonly prefix: string;
  /** The whole-key pattern of a glob match; undefined for a prefix match. */
  readonly pattern: RegExp | undefined;
  /** As written, for messages. */
  readonly label: string;
}

/** One route, resolved: what to match, how to read the object, where its batches go. */
export interface Route {
  readonly name: string;
  readonly matches: readonly RouteMatch[];
  /** The source name of an object under this route (the key's first segment with SOURCE_FROM_KEY_PREFIX). */
  readonly sourceOf: (key: string) => SourceNameResult;
  readonly format: RouteFormat;
  readonly timeField: string | undefined;
  readonly timeFormat: TimeFormat;
  /** undefined: la-uploader's own DCR_STREAM (the one-source configuration). */
  readonly logsIngestion: LogsIngestionDestination | undefined;
  readonly adx: boolean;
}
