import type { SubscriptionRef } from '@logferry/shared/dead-letters/topology';
import { MANIFEST } from '@logferry/shared/manifest';
import { SERVICES } from '@logferry/shared/services';

/** The services that publish to a topic, from the service manifest (the operator CLI is not a stage). */
export function publishersOf(topic: string): string[] {
  return SERVICES.filter((s) => (MANIFEST[s].publishes as readonly string[]).includes(topic));
}

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
