import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from '@logferry/shared/logging/logger';
import type { Route } from '@logferry/shared/routes/index';
import type { Publisher } from '@logferry/shared/transport/port';
import { BatchStager } from './batch-stager.ts';
import { Batcher } from './batcher.ts';
import { type BadRecord, type BadRecordReason, type DocumentFormat, decodeRecords } from './decode-records.ts';
import { type Compression, decompress } from './detect-compression.ts';
import { createEnricher, lineScanPlan } from './enrich.ts';

export interface PipelineSettings {
  readonly maxDecompressedBytes: number;
  readonly maxBatchBytes: number;
  readonly maxBatchRecords: number;
  readonly gzipLevel: number;
  readonly uploadConcurrency: number;
  readonly publishGroupSize: number;
  /** Bad lines logged per object (the rest are only counted). */
  readonly badRecordSamples: number;
  /** Nesting levels a record may have; deeper ones are bad records (TooDeep). Default 100. */
  readonly maxRecordDepth?: number;
  /** Columns a CSV header may name; a wider header refuses the document. Default 500. */
  readonly maxCsvColumns?: number;
}

export interface ObjectRef {
  readonly bucket: string;
  readonly key: string;
  readonly versionId: string | undefined;
  readonly objectId: string;
  readonly source: string;
  /** How to read the object (format, time field) and where its batches go. */
  readonly route: Pick<Route, 'format' | 'timeField' | 'timeFormat' | 'logsIngestion' | 'adx'>;
  /** Whether adx-ingester reads the staged batches too (marked on each message). */
  readonly adxReads: boolean;
  /** ISO time for records without a readable event time. */
  readonly fallbackTime: string;
  /** Date part of the staged blob names. */
  readonly blobDate: Date;
}

export interface StageDeps {
  readonly container: ContainerClient;
  readonly publisher: Publisher;
  readonly logger: Logger;
}

export interface StageResult {
  format: DocumentFormat | undefined;
  compression: Compression | undefined;
  records: number;
  badRecords: number;
  droppedRecords: number;
  badByReason: Partial<Record<BadRecordReason, number>>;
  /** The first `badRecordSamples` bad records, for the status row (and so the page). */
  badSamples: { position: number; reason: string; detail: string }[];
  timeFallbacks: number;
  batches: number;
  /** Batch messages published so far (also when processing fails part-way). */
  batchesPublished: number;
  bytesIn: number;
  rawBytes: number;
  compressedBytes: number;
}

/**
 * Streams one object through decompress → decode → enrich → batch → stage. Memory is bounded by the
 * settings (chunk sizes, record limit, batches in flight), never by the object. Throws DocumentError for
 * an unreadable document (batches staged before the fault stay published; the count is in the error's
 * log line), and whatever the body stream, Blob storage or the publisher throw for transient faults.
 */
export async function stageObject(
  body: AsyncIterable<Uint8Array>,
  object: ObjectRef,
  deps: StageDeps,
  settings: PipelineSettings,
  signal: AbortSignal,
  result: StageResult = emptyResult(),
): Promise<StageResult> {
  const log = deps.logger;
  const counted = countBytes(body, result, signal);
  const decompressed = decompress(counted, {
    maxDecompressedBytes: settings.maxDecompressedBytes,
    onDetected: (c) => {
      result.compression = c;
    },
  });
  const onBad = (bad: BadRecord) => {
    if (bad.reason === 'RecordTooLarge') result.droppedRecords++;
    else result.badRecords++;
    result.badByReason[bad.reason] = (result.badByReason[bad.reason] ?? 0) + 1;
    if (result.badRecords + result.droppedRecords <= settings.badRecordSamples) {
      result.badSamples.push({ position: bad.position, reason: bad.reason, detail: bad.detail });
      log.warn(
        { objectId: object.objectId, position: bad.position, reason: bad.reason, detail: bad.detail },
        'skipped a record',
      );
    }
  };
  // Lines beyond twice the batch limit cannot shrink below it; the enriched size is checked exactly later.
  const decoded = decodeRecords(decompressed, {
    maxRecordBytes: settings.maxBatchBytes * 2,
    ...(settings.maxRecordDepth === undefined ? {} : { maxDepth: settings.maxRecordDepth }),
    ...(settings.maxCsvColumns === undefined ? {} : { maxColumns: settings.maxCsvColumns }),
    onBadRecord: onBad,
    scan: lineScanPlan(object.route.timeField),
    format: object.route.format,
    onFormat: (f) => {
      result.format = f;
    },
  });
  const enricher = createEnricher({
    timeField: object.route.timeField,
    timeFormat: object.route.timeFormat,
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId,
    fallbackTime: object.fallbackTime,
  });
  const batcher = new Batcher({ maxBytes: settings.maxBatchBytes, maxRecords: settings.maxBatchRecords });
  const stager = new BatchStager({
    container: deps.container,
    publisher: deps.publisher,
    objectId: object.objectId,
    source: object.source,
    route: object.route,
    adxReads: object.adxReads,
    blobDate: object.blobDate,
    gzipLevel: settings.gzipLevel,
    uploadConcurrency: settings.uploadConcurrency,
    publishGroupSize: settings.publishGroupSize,
    signal,
    onPublished: (n) => {
      result.batchesPublished += n;
    },
    onWritten: (batch) => batcher.release(batch),
  });
  try {
    for await (const records of decoded) {
      for (const record of records) {
        const serialized = enricher.serialize(record);
        if (batcher.tooLarge(serialized)) {
          onBad({
            position: record.position,
            reason: 'RecordTooLarge',
            detail: `${serialized.bytes} bytes with enrichment; a batch may hold at most ${settings.maxBatchBytes}`,
          });
          continue;
        }
        result.records++;
        const closed = batcher.add(serialized);
        if (closed) await stager.stage(closed);
      }
    }
    const final = batcher.flush();
    if (final) await stager.stage(final);
    const totals = await stager.finish();
    result.batches = totals.batches;
    result.rawBytes = totals.rawBytes;
    result.compressedBytes = totals.compressedBytes;
    result.timeFallbacks = enricher.timeFallbacks;
    return result;
  } catch (err) {
    await stager.abandon();
    result.timeFallbacks = enricher.timeFallbacks;
    throw err;
  }
}

export function emptyResult(): StageResult {
  return {
    format: undefined,
    compression: undefined,
    records: 0,
    badRecords: 0,
    droppedRecords: 0,
    badByReason: {},
    badSamples: [],
    timeFallbacks: 0,
    batches: 0,
    batchesPublished: 0,
    bytesIn: 0,
    rawBytes: 0,
    compressedBytes: 0,
  };
}

async function* countBytes(
  body: AsyncIterable<Uint8Array>,
  result: StageResult,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    signal.throwIfAborted();
    result.bytesIn += chunk.length;
    yield chunk;
  }
}
