import type { TokenCredential } from '@azure/core-auth';
import { QueueClient } from '@azure/storage-queue';
import { Client as KustoClient, KustoConnectionStringBuilder } from 'azure-kusto-data';
import type { StatusQueues } from './report-reader.ts';

export type KustoAuth = { kind: 'none' } | { kind: 'azure'; credential: TokenCredential };

/**
 * The status queues from `.get ingestion resources` (a cluster may list several of each). Their URLs carry
 * SAS tokens ADX rotates, so the list is fetched again every `refreshMs`, and at once after `invalidate()`.
 */
export class StatusQueueProvider {
  readonly #client: KustoClient;
  readonly #refreshMs: number;
  #cached: { queues: StatusQueues; at: number } | undefined;

  constructor(options: { ingestUri: string; auth: KustoAuth; refreshMs: number }) {
    const kcsb =
      options.auth.kind === 'none'
        ? new KustoConnectionStringBuilder(options.ingestUri)
        : KustoConnectionStringBuilder.withTokenCredential(options.ingestUri, options.auth.credential);
    this.#client = new KustoClient(kcsb);
    this.#refreshMs = options.refreshMs;
  }

  async get(): Promise<StatusQueues> {
    if (this.#cached && Date.now() - this.#cached.at < this.#refreshMs) return this.#cached.queues;
    const response = await this.#client.execute('NetDefaultDB', '.get ingestion resources');
    const success: QueueClient[] = [];
    const failure: QueueClient[] = [];
    for (const row of response.primaryResults[0]?.rows() ?? []) {
      const { ResourceTypeName: type, StorageRoot: url } = row.toJSON<{
        ResourceTypeName: string;
        StorageRoot: string;
      }>();
      if (type === 'SuccessfulIngestionsQueue') success.push(new QueueClient(url));
      if (type === 'FailedIngestionsQueue') failure.push(new QueueClient(url));
    }
    if (failure.length === 0) throw new Error('.get ingestion resources returned no FailedIngestionsQueue');
    this.#cached = { queues: { success, failure }, at: Date.now() };
    return this.#cached.queues;
  }

  invalidate(): void {
    this.#cached = undefined;
  }

  close(): void {
    this.#client.close();
  }
}
