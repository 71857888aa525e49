import { TableClient, type TransactionAction } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { blobScannerVars } from '@logferry/shared/config/services/blob-scanner';
import { createLogger } from '@logferry/shared/logging/logger';
import { type BlobStatusRow, BlobStatusStore, toEntity } from '@logferry/shared/stores/blob-status';
import { startAzurite } from '@logferry/shared/testing';
import { forEachLimit } from '../../services/blob-scanner/src/for-each-limit.ts';
import { listBlobPages } from '../../services/blob-scanner/src/listing/list-blob-pages.ts';
import { EventBus } from '../../services/blob-scanner/src/live/event-bus.ts';
import { ScanRecordStore } from '../../services/blob-scanner/src/scan-records.ts';
import { Scanner } from '../../services/blob-scanner/src/scanner.ts';
import { nullPublisher } from './fetcher-pipeline.ts';
import { fmt, type Row } from './table.ts';

export interface BlobScanBenchOptions {
  /** Blobs in the container, each with a `succeeded` status row of the same version (BENCH_SCAN_BLOBS). */
  readonly blobs: number;
  readonly progress: (line: string) => void;
}

// blob-scanner's defaults, read from its config schema so the bench follows them.
const PAGE_SIZE = blobScannerVars.SCAN_PAGE_SIZE.schema.parse(undefined);
const CLAIM_CONCURRENCY = blobScannerVars.SCAN_CLAIM_CONCURRENCY.schema.parse(undefined);
const PUBLISH_BATCH = blobScannerVars.SCAN_PUBLISH_BATCH.schema.parse(undefined);
const MAX_ATTEMPTS = blobScannerVars.BLOB_MAX_ATTEMPTS.schema.parse(undefined);
const BASELINE_BLOBS = 2_000;

/**
 * A rescan of a container where nothing changed, against Azurite: the listing compared with one paged read
 * of the status rows. The baseline, measured in the same run on the first 2,000 rows, is
 * what each unchanged blob cost before: one status-row read per listed blob, on top of the SDK's listing.
 */
export async function runBlobScanBench(options: BlobScanBenchOptions): Promise<Row[]> {
  const { progress } = options;
  const azurite = await startAzurite();
  try {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('data');
    await container.createIfNotExists();
    const table = TableClient.fromConnectionString(azurite.connectionString, 'benchblobstatus', {
      allowInsecureConnection: true,
    });
    const store = new BlobStatusStore(table);
    await store.ensureTable();

    progress(`blob flow: ${options.blobs} blobs, each with a succeeded status row`);
    const names = Array.from({ length: options.blobs }, (_, i) => `TrafficFlows-${String(i).padStart(6, '0')}.csv`);
    const body = 'src,dst,bytes\n10.0.0.1,10.0.0.2,512\n';
    await forEachLimit(names, 64, async (name) => {
      await container.getBlockBlobClient(name).upload(body, body.length);
    });
    // The rows hold each version as the listing shows it (the upload answer quotes the ETag, the listing not).
    const at = new Date().toISOString();
    const rows: BlobStatusRow[] = [];
    for await (const b of container.listBlobsFlat()) {
      rows.push({
        container: 'data',
        blobName: b.name,
        etag: b.properties.etag ?? '',
        size: b.properties.contentLength ?? 0,
        status: 'succeeded',
        attempts: 1,
        publishedAt: at,
        finishedAt: at,
        updatedAt: at,
        history: [{ at, status: 'succeeded' }],
      });
    }
    // Rows in batches of 100 (one partition per container): far faster than a first scan would write them.
    const batches: TransactionAction[][] = [];
    for (let i = 0; i < rows.length; i += 100) {
      batches.push(rows.slice(i, i + 100).map((r) => ['upsert', toEntity(r) as never]));
    }
    await forEachLimit(batches, 8, async (actions) => {
      await table.submitTransaction(actions);
    });

    const scanner = new Scanner({
      container,
      store,
      scans: new ScanRecordStore(table),
      publisher: nullPublisher,
      events: new EventBus(),
      logger: createLogger('blob-scanner', { level: 'warn' }),
      pageSize: PAGE_SIZE,
      claimConcurrency: CLAIM_CONCURRENCY,
      publishBatch: PUBLISH_BATCH,
      maxAttempts: MAX_ATTEMPTS,
    });
    progress('blob flow: rescan (nothing changed)');
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const started = scanner.start({ trigger: 'manual' });
    if (started.kind !== 'started') throw new Error(`scan did not start: ${started.kind}`);
    const scan = await started.done;
    const scanMs = performance.now() - t0;
    const scanCpu = process.cpuUsage(cpu0);
    if (scan.state !== 'completed' || scan.counts.unchanged !== options.blobs) {
      throw new Error(`rescan did not find every blob unchanged: ${JSON.stringify(scan.counts)}`);
    }

    progress("blob flow: the listing alone, same page size: the scanner's, then the SDK's");
    const t2 = performance.now();
    for await (const page of listBlobPages(container, { pageSize: PAGE_SIZE })) void page;
    const listingMs = performance.now() - t2;
    const t3 = performance.now();
    for await (const page of container.listBlobsFlat().byPage({ maxPageSize: PAGE_SIZE })) void page;
    const sdkListingMs = performance.now() - t3;

    progress(`blob flow: baseline, one status read per blob (${BASELINE_BLOBS} blobs)`);
    const sample = names.slice(0, BASELINE_BLOBS);
    const t1 = performance.now();
    await forEachLimit(sample, CLAIM_CONCURRENCY, async (name) => {
      await store.get('data', name);
    });
    const baselineMs = performance.now() - t1;

    const rate = options.blobs / (scanMs / 1000);
    const baseline = sample.length / (baselineMs / 1000);
    // Before, a rescan was the SDK's listing plus one read per blob: estimated from the two measured parts.
    const beforeMs = sdkListingMs + (options.blobs / baseline) * 1000;
    const cpuS = (scanCpu.user + scanCpu.system) / 1e6;
    return [
      [
        `rescan of ${fmt(options.blobs)} unchanged blobs`,
        `${fmt(rate)} blobs/s`,
        `${(scanMs / 1000).toFixed(1)} s (scanner CPU ${cpuS.toFixed(1)} s): the listing (pages of ${fmt(PAGE_SIZE)}, SCAN_PAGE_SIZE) + one paged read of the status rows`,
      ],
      [
        'the listing alone (Azurite)',
        `${fmt(options.blobs / (listingMs / 1000))} blobs/s`,
        `${(listingMs / 1000).toFixed(1)} s: the scanner's own List Blobs reader (listBlobPages)`,
      ],
      [
        "baseline: the SDK's listBlobsFlat",
        `${fmt(options.blobs / (sdkListingMs / 1000))} blobs/s`,
        `${(sdkListingMs / 1000).toFixed(1)} s: the same pages through the SDK's XML deserializer (${(sdkListingMs / listingMs).toFixed(1)}× the scanner's)`,
      ],
      [
        'baseline: one status read per blob',
        `${fmt(baseline)} blobs/s`,
        `${fmt(sample.length)} reads at concurrency ${CLAIM_CONCURRENCY}; with the SDK's listing, a rescan that read each row would take ~${(beforeMs / 1000).toFixed(1)} s (${(beforeMs / scanMs).toFixed(1)}× this one)`,
      ],
    ];
  } finally {
    await azurite.stop();
  }
}
