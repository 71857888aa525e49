import { z } from 'zod';

/** Data formats ADX queued ingestion accepts, by the mapping kind each one takes. */
export const FORMAT_MAPPING_KIND = {
  csv: 'Csv',
  tsv: 'Csv',
  tsve: 'Csv',
  scsv: 'Csv',
  sohsv: 'Csv',
  psv: 'Csv',
  txt: 'Csv',
  raw: 'Csv',
  json: 'Json',
  multijson: 'Json',
  singlejson: 'Json',
  avro: 'Avro',
  apacheavro: 'ApacheAvro',
  parquet: 'Parquet',
  orc: 'orc',
  w3clogfile: 'W3CLogFile',
} as const;
export type IngestFormat = keyof typeof FORMAT_MAPPING_KIND;
export type MappingKind = (typeof FORMAT_MAPPING_KIND)[IngestFormat];

/** Formats whose first record can be a header line (the only ones where ignoreFirstRecord means anything). */
export const DELIMITED_FORMATS: readonly IngestFormat[] = ['csv', 'tsv', 'tsve', 'scsv', 'sohsv', 'psv'];

const kustoName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,1023}$/, 'letters, digits and _ only, not starting with a digit');

export const MappingEntrySchema = z
  .strictObject({
    table: kustoName,
    format: z.enum(Object.keys(FORMAT_MAPPING_KIND) as [IngestFormat, ...IngestFormat[]]),
    mappingReference: z
      .string()
      .regex(/^[A-Za-z0-9_.-]{1,1024}$/, 'letters, digits, _ . - only')
      .optional(),
    mappingKind: z.enum([...new Set(Object.values(FORMAT_MAPPING_KIND))] as [MappingKind, ...MappingKind[]]).optional(),
    /** True only for delimited files that start with a header line. */
    ignoreFirstRecord: z.boolean().default(false),
    /**
     * How the blobs are compressed. ADX tells gzip from the blob name (.gz); the stand-in also sniffs it.
     * Documents intent and lets tests and the seeding produce matching blobs.
     */
    compression: z.enum(['none', 'gzip']).default('none'),
    description: z.string().max(1000).optional(),
  })
  .superRefine((entry, ctx) => {
    const expected = FORMAT_MAPPING_KIND[entry.format];
    if (entry.mappingKind !== undefined && entry.mappingKind !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['mappingKind'],
        message: `format ${entry.format} takes a ${expected} mapping, not ${entry.mappingKind}`,
      });
    }
    if (entry.ignoreFirstRecord && !DELIMITED_FORMATS.includes(entry.format)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ignoreFirstRecord'],
        message: `only delimited formats (${DELIMITED_FORMATS.join(', ')}) have a header line to skip, not ${entry.format}`,
      });
    }
  })
  .transform((entry) => ({ ...entry, mappingKind: entry.mappingKind ?? FORMAT_MAPPING_KIND[entry.format] }));

export type MappingEntry = z.output<typeof MappingEntrySchema>;

/**
 * Keys are the blob-name prefix `<NAME>` matched as `<NAME>-…` (user files) or `<NAME>/…` (batches staged by
 * s3-fetcher under their source name). No '-' or '/' inside a key, so a name has exactly one candidate prefix.
 */
export const MAPPING_KEY = /^[A-Za-z0-9_.]{1,256}$/;

/** The file: an object of entries by NAME; keys starting with '$' (e.g. "$schema", "$comment") are ignored. */
export const MappingsFileSchema = z.record(z.string(), z.unknown());

export interface Mapping extends MappingEntry {
  /** The key the blob matched. */
  readonly name: string;
}

export type Mappings = ReadonlyMap<string, Mapping>;
