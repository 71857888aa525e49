import type { ContainerClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { createRouteTable, singleRoute } from '@logferry/shared/routes/index';
import type { Publisher } from '@logferry/shared/transport/port';
import { type PipelineSettings, type StageResult, stageObject } from '../../services/s3-fetcher/src/stage-object.ts';
import { chunksOf } from './fetcher-corpus.ts';

export const DEFAULT_SETTINGS: PipelineSettings = {
  maxDecompressedBytes: 10 * 1024 ** 3,
  maxBatchBytes: 950_000,
  maxBatchRecords: 5_000,
  gzipLevel: 1,
  uploadConcurrency: 3,
  publishGroupSize: 10,
  badRecordSamples: 5,
};

/** A container whose uploads succeed at once: the pipeline's own cost, without network. */
export function nullContainer(): ContainerClient {
  return {
    containerName: 'bench',
    getBlockBlobClient: () => ({ uploadData: async () => ({}) }),
  } as unknown as ContainerClient;
}

export const nullPublisher: Publisher = { publish: async () => {} };

/** The one-route case (SOURCE_NAME=Code42, format sniffed) over the bench's buckets. */
export const BENCH_ROUTE = singleRoute({
  S3_ALLOWED_BUCKETS: ['bench-bucket', 'bench-logs', 'memory'],
  S3_ALLOWED_PREFIXES: [],
});
export const BENCH_ROUTES = createRouteTable([BENCH_ROUTE]);

/** decompress → decode → enrich → batch → gzip, on an in-memory object, with uploads and publishes as no-ops. */
export async function runPipeline(gz: Buffer, settings: PipelineSettings = DEFAULT_SETTINGS): Promise<StageResult> {
  return stageObject(
    chunksOf(gz),
    {
      bucket: 'bench-bucket',
      key: 'incydr/2024/01/01/events.json.gz',
      versionId: undefined,
      objectId: 'bench-bucket/incydr/2024/01/01/events.json.gz@bench',
      source: 'Code42',
      route: BENCH_ROUTE,
      adxReads: false,
      fallbackTime: '2024-01-01T00:00:00.000Z',
      blobDate: new Date('2024-01-01T00:00:00.000Z'),
    },
    { container: nullContainer(), publisher: nullPublisher, logger: createLogger('bench', { level: 'silent' }) },
    settings,
    new AbortController().signal,
  );
}
