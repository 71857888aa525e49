import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { QueueServiceClient } from '@azure/storage-queue';
import { Catalog, type Row } from './catalog.ts';
import { createAdxServer } from './http.ts';
import { parseCommand, splitKqlScript } from './kql.ts';
import {
  type AdxResourceNames,
  provisionResources,
  resourceNames,
  type StorageRoots,
  sharedKeyParts,
} from './storage.ts';
import { type AdxFaults, type IngestionRecord, IngestionWorker } from './worker.ts';

export { blobNameOf } from './worker.ts';
export type { AdxFaults, AdxResourceNames, IngestionRecord, Row as AdxRow, StorageRoots };

/** The repository's deploy/adx: the same .kql files a user runs on a real cluster. */
export const DEFAULT_KQL_DIR = fileURLToPath(new URL('../../../deploy/adx/', import.meta.url));

export interface AdxStandInOptions {
  /** Storage account (Azurite) holding the ingestion queue, status queues and temp container. */
  readonly storageConnectionString: string;
  readonly port?: number;
  readonly host?: string;
  /** Directory of .kql scripts run at start (default deploy/adx); [] or null for none. */
  readonly kqlDir?: string | null;
  /** Prefix of the queue/container names, so several stand-ins can share one Azurite. */
  readonly resourcePrefix?: string;
  readonly pollIntervalMs?: number;
  /** Largest blob (compressed and decompressed) the worker accepts. */
  readonly maxBlobBytes?: number;
  readonly faults?: AdxFaults;
}

export interface AdxStandIn {
  /** Cluster/ingest URL for KustoConnectionStringBuilder (loopback: no auth, no ingest- prefix). */
  readonly endpoint: string;
  readonly resources: StorageRoots;
  readonly names: AdxResourceNames;
  tables(): Record<string, Row[]>;
  rows(table: string): Row[];
  /** Every ingestion the worker finished, in order. */
  ingestions(): readonly IngestionRecord[];
  /** Resolves with the first ingestion (past or future) matching `predicate`; rejects after timeoutMs. */
  waitForIngestion(predicate: (r: IngestionRecord) => boolean, timeoutMs?: number): Promise<IngestionRecord>;
  /** Runs a management command (e.g. `.create table …`) as if posted to /v1/rest/mgmt. */
  command(csl: string): void;
  setFaults(faults: AdxFaults): void;
  close(): Promise<void>;
}

export async function startAdxStandIn(options: AdxStandInOptions): Promise<AdxStandIn> {
  const catalog = new Catalog();
  const runScript = (script: string) => {
    for (const command of splitKqlScript(script)) catalog.apply(parseCommand(command));
  };
  const kqlDir = options.kqlDir === undefined ? DEFAULT_KQL_DIR : options.kqlDir;
  if (kqlDir) {
    for (const file of readdirSync(kqlDir)
      .filter((f) => f.endsWith('.kql'))
      .sort()) {
      runScript(readFileSync(join(kqlDir, file), 'utf8'));
    }
  }
  let faults: AdxFaults = options.faults ?? {};
  const names = resourceNames(options.resourcePrefix ?? 'adx');
  const roots = await provisionResources(options.storageConnectionString, names);
  const queues = QueueServiceClient.fromConnectionString(options.storageConnectionString);
  const worker = new IngestionWorker({
    ingestionQueue: queues.getQueueClient(names.ingestionQueue),
    successQueue: queues.getQueueClient(names.successQueue),
    failureQueue: queues.getQueueClient(names.failureQueue),
    catalog,
    sharedKey: sharedKeyParts(options.storageConnectionString),
    pollIntervalMs: options.pollIntervalMs ?? 100,
    maxBlobBytes: options.maxBlobBytes ?? 256 * 1024 * 1024,
    faults: () => faults,
  });
  const server = createAdxServer({ catalog, roots, faults: () => faults });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  worker.start();

  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    resources: roots,
    names,
    tables: () => catalog.snapshot(),
    rows: (table) => catalog.rows(table),
    ingestions: () => [...worker.records],
    waitForIngestion(predicate, timeoutMs = 15_000) {
      const seen = worker.records.find(predicate);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          worker.off('ingestion', listener);
          reject(new Error(`no matching ingestion within ${timeoutMs} ms; saw ${JSON.stringify(worker.records)}`));
        }, timeoutMs);
        const listener = (record: IngestionRecord) => {
          if (!predicate(record)) return;
          clearTimeout(timer);
          worker.off('ingestion', listener);
          resolve(record);
        };
        worker.on('ingestion', listener);
      });
    },
    command: runScript,
    setFaults(next) {
      faults = next;
    },
    async close() {
      await worker.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
