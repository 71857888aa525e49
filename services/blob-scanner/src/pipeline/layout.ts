import type { SubscriptionRef } from '@logferry/shared/dead-letters/topology';

/** Who publishes to each topic (the subscriptions, and so the consumers, come from Config.json). */
export const PUBLISHERS: Readonly<Record<string, readonly string[]>> = {
  's3-objects': ['sqs-poller'],
  'staged-batches': ['s3-fetcher'],
  'ingest-requests': ['blob-scanner', 'completion-checker'],
  'ingestion-results': ['completion-checker'],
};

/** What a subscription's throughput counts: the consuming stage's own completion time in the stores. */
export const THROUGHPUT_UNITS: Readonly<Record<string, string>> = {
  's3-objects/s3-fetcher': 'objects fetched',
  'staged-batches/la-uploader': 'batches uploaded',
  'staged-batches/adx-ingester': 'batches posted to ADX',
  'ingest-requests/adx-ingester': 'blobs posted to ADX',
  'ingestion-results/blob-scanner': 'results',
};

/** The pipeline's own subscriptions: a test's or an operator's extra subscription is not a stage. */
export function pipelineSubscriptions(all: readonly SubscriptionRef[]): SubscriptionRef[] {
  return all.filter((r) => `${r.topic}/${r.subscription}` in THROUGHPUT_UNITS);
}
