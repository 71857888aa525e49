import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import type { ContainerClient } from '@azure/storage-blob';
import type { StagedBatchMessage } from '../messages/index.ts';
import { decodeRecordLengths, encodeRecordLengths } from '../stores/record-lengths.ts';
import {
  downloadStagedBlob,
  inflateJsonArrayBatch,
  stagedBatchBlobName,
  stagedBatchId,
  writeStagedBatch,
} from '../stores/staging.ts';

/**
 * Tests: the records a v2 staged-batches message points at, checked the way la-uploader relies on them: the
 * blob inflates to a JSON array of the announced size whose records sit at the announced lengths, and the
 * array parses to exactly those records.
 */
export async function stagedRecords(
  container: ContainerClient,
  message: StagedBatchMessage,
): Promise<Record<string, unknown>[]> {
  assert.equal(message.schemaVersion, 2, 'staged as a JSON array (schema v2)');
  if (message.schemaVersion !== 2) return [];
  const lengths = decodeRecordLengths(message.recordLengths, message.recordCount);
  assert.equal(lengths?.length, message.recordCount, 'one length per record');
  const gz = await downloadStagedBlob(container, message.blobName, { maxBytes: 64 * 1024 * 1024 });
  assert.equal(gz.length, message.compressedBytes);
  const array = await inflateJsonArrayBatch(gz, lengths ?? [], 64 * 1024 * 1024);
  assert.equal(array.length, message.rawBytes);
  const records = JSON.parse(array.toString('utf8')) as Record<string, unknown>[];
  assert.equal(records.length, message.recordCount);
  return records;
}

export interface StageForTest {
  readonly objectId: string;
  readonly batchIndex: number;
  readonly source: string;
  readonly records: readonly object[];
  /** Default: the name s3-fetcher would give it. */
  readonly blobName?: string;
  readonly lastBatch?: boolean;
  readonly id?: string;
}

/** Tests: stages records as s3-fetcher does (v2, gzip JSON array) and returns the message it would publish. */
export async function stageJsonArrayBatch(
  container: ContainerClient,
  batch: StageForTest,
): Promise<StagedBatchMessage & { schemaVersion: 2 }> {
  const texts = batch.records.map((r) => Buffer.from(JSON.stringify(r)));
  const body = Buffer.concat([Buffer.from('['), ...texts.flatMap((t, i) => (i ? [COMMA, t] : [t])), Buffer.from(']')]);
  const blobName = batch.blobName ?? nameFor(batch, 'json.gz');
  const written = await writeStagedBatch(container, {
    blobName,
    objectId: batch.objectId,
    batchIndex: batch.batchIndex,
    source: batch.source,
    recordCount: texts.length,
    body,
  });
  return {
    ...envelope(container, batch, blobName, texts.length, written),
    schemaVersion: 2,
    recordLengths: encodeRecordLengths(texts.map((t) => t.length)),
  };
}

/** Tests: stages records in the v1 format (gzip NDJSON) and returns the v1 message announcing them. */
export async function stageNdjsonBatch(
  container: ContainerClient,
  batch: StageForTest,
): Promise<StagedBatchMessage & { schemaVersion: 1 }> {
  const ndjson = Buffer.from(batch.records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  const gz = gzipSync(ndjson);
  const blobName = batch.blobName ?? nameFor(batch, 'ndjson.gz');
  await container.getBlockBlobClient(blobName).uploadData(gz);
  return {
    ...envelope(container, batch, blobName, batch.records.length, {
      rawBytes: ndjson.length,
      compressedBytes: gz.length,
    }),
    schemaVersion: 1,
  };
}

const COMMA = Buffer.from(',');

function nameFor(batch: StageForTest, suffix: string): string {
  const name = stagedBatchBlobName({ ...batch, date: new Date('2024-05-01T00:00:00Z') });
  return name.replace(/json\.gz$/, suffix);
}

function envelope(
  container: ContainerClient,
  batch: StageForTest,
  blobName: string,
  recordCount: number,
  sizes: { rawBytes: number; compressedBytes: number },
) {
  return {
    type: 'staged-batch' as const,
    id: batch.id ?? stagedBatchId(batch.objectId, batch.batchIndex),
    producer: 's3-fetcher' as const,
    time: new Date().toISOString(),
    objectId: batch.objectId,
    batchIndex: batch.batchIndex,
    lastBatch: batch.lastBatch ?? true,
    blobContainer: container.containerName,
    blobName,
    recordCount,
    rawBytes: sizes.rawBytes,
    compressedBytes: sizes.compressedBytes,
    source: batch.source,
  };
}

/** Tests of the transport: a valid v1 staged-batches message whose references nothing reads. */
export function sampleStagedBatch(id: string): StagedBatchMessage {
  return {
    type: 'staged-batch',
    schemaVersion: 1,
    id,
    producer: 's3-fetcher',
    time: new Date().toISOString(),
    objectId: `bucket/${id}@v1`,
    batchIndex: 0,
    lastBatch: true,
    blobContainer: 'staging',
    blobName: `${id}.ndjson.gz`,
    recordCount: 1,
    rawBytes: 1000,
    compressedBytes: 200,
    source: 'Code42FileEvents',
  };
}
