import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { type MessageOf, TOPIC_SCHEMAS, type TopicName } from '@logferry/shared/messages/index';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import type { AzuriteHandle } from '@logferry/shared/testing';
import type { Publisher } from '@logferry/shared/transport/port';
import { EventBus } from '../../src/live/event-bus.ts';
import { ScanRecordStore } from '../../src/scan-records.ts';
import { Scanner, type ScannerOptions } from '../../src/scanner.ts';

export const silentLogger = createLogger('blob-scanner-test', { level: 'silent' });

/** Names that broke the original: spaces, `+`, `#`, `?`, `%`, unicode, and a virtual directory. */
export const AWKWARD_NAMES = [
  'TrafficFlows-2024 01 02.csv',
  'Json-a+b.json',
  'Json-hash#1.json',
  'Json-q?x%20y.json',
  'dir/Δοκιμή-ünïcödé-日本.csv',
];

/**
 * A Publisher double that validates like the real one, records what was published, and can be made
 * to fail or to wait (to hold a scan open deterministically).
 */
export class RecordingPublisher implements Publisher {
  readonly published: { topic: TopicName; message: unknown }[] = [];
  failWith: Error | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = undefined;
  }

  async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    if (this.#gate) await this.#gate;
    if (this.failWith) throw this.failWith;
    for (const m of messages) TOPIC_SCHEMAS[topic].parse(m);
    for (const m of messages) this.published.push({ topic, message: m });
  }

  ingestRequests(): MessageOf<'ingest-requests'>[] {
    return this.published
      .filter((p) => p.topic === 'ingest-requests')
      .map((p) => p.message as MessageOf<'ingest-requests'>);
  }
}

let tableCounter = 0;

export interface StorageFixture {
  readonly container: ContainerClient;
  readonly table: TableClient;
  readonly store: BlobStatusStore;
  readonly scans: ScanRecordStore;
  upload(name: string, content: string): Promise<void>;
  newScanner(publisher: Publisher, events?: EventBus, overrides?: Partial<ScannerOptions>): Scanner;
}

/** A fresh container and status table on Azurite, so tests sharing one Azurite do not see each other's rows. */
export async function storageFixture(azurite: AzuriteHandle, containerName?: string): Promise<StorageFixture> {
  tableCounter++;
  const suffix = `${process.pid}x${tableCounter}`;
  const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
  const container = service.getContainerClient(containerName ?? `data-${suffix}`);
  await container.createIfNotExists();
  const table = TableClient.fromConnectionString(azurite.connectionString, `status${suffix}`, {
    allowInsecureConnection: true,
  });
  await table.createTable();
  const store = new BlobStatusStore(table);
  const scans = new ScanRecordStore(table);
  return {
    container,
    table,
    store,
    scans,
    async upload(name, content) {
      await container.getBlockBlobClient(name).upload(content, Buffer.byteLength(content));
    },
    newScanner(publisher, events = new EventBus(), overrides = {}) {
      // Each scanner gets its own store object, as two replicas would.
      return new Scanner({
        container,
        store: new BlobStatusStore(table),
        scans,
        publisher,
        events,
        logger: silentLogger,
        pageSize: 3,
        claimConcurrency: 4,
        publishBatch: 2,
        maxAttempts: 3,
        ...overrides,
      });
    },
  };
}
