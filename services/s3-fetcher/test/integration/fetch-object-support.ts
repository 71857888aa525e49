// What the fetch-object tests share: the one-route table over their buckets and checks of what was staged.
import assert from 'node:assert/strict';
import type { StagedBatchMessage } from '@logferry/shared/messages/index';
import { createRouteTable, singleRoute } from '@logferry/shared/routes/index';
import { stagedBatchId } from '@logferry/shared/stores/staging';
import { stagedRecords as readStagedRecords } from '@logferry/shared/testing';
import type { Rec } from './corpus.ts';
import { type FetcherHarness, SETTINGS, useFetcherHarness } from './fixture.ts';

export const BUCKET = 'code42-logs';
/** A bucket of the metrics tests' own, so their objects are not ones other tests already staged or failed. */
export const METRICS_BUCKET = 'metrics-logs';
/** The one-route case (SOURCE_NAME=Code42, format sniffed) over the buckets these tests use. */
export const ROUTES = createRouteTable([
  singleRoute({ S3_ALLOWED_BUCKETS: [BUCKET, METRICS_BUCKET], S3_ALLOWED_PREFIXES: [], SOURCE_NAME: 'Code42' }),
]);

/** The harness of a fetch-object suite: notifications announce 2024-02-01 for objects of BUCKET. */
export function useFetchObjectHarness(): FetcherHarness {
  return useFetcherHarness({ bucket: BUCKET, routes: ROUTES, eventTime: '2024-02-01T00:00:00.000Z' });
}

/** The batches' records, each blob's metadata and size checked against the message that announced it. */
export async function checkedStagedRecords(
  harness: FetcherHarness,
  messages: readonly StagedBatchMessage[],
): Promise<Rec[]> {
  const { container } = harness.stores;
  const out: Rec[] = [];
  for (const m of messages) {
    const records = await readStagedRecords(container, m);
    const props = await container.getBlobClient(m.blobName).getProperties();
    assert.deepEqual(props.metadata, {
      objectid: encodeURIComponent(m.objectId),
      batchindex: String(m.batchIndex),
      recordcount: String(m.recordCount),
      rawbytes: String(m.rawBytes),
      source: 'Code42',
      format: 'json-array',
    });
    assert.ok(m.rawBytes <= SETTINGS.maxBatchBytes, `${m.blobName} over the byte limit`);
    assert.ok(m.recordCount <= SETTINGS.maxBatchRecords);
    for (const r of records) out.push(r as Rec);
  }
  return out;
}

/** One object's batches: indexes 0..n-1, the last one marked, ids derived from the object id. */
export function assertWellFormedObject(messages: readonly StagedBatchMessage[]): void {
  const objectId = messages[0]!.objectId;
  assert.deepEqual(
    messages.map((m) => m.batchIndex),
    messages.map((_, i) => i),
  );
  assert.deepEqual(
    messages.map((m) => m.lastBatch),
    messages.map((_, i) => i === messages.length - 1),
  );
  assert.deepEqual(
    messages.map((m) => m.id),
    messages.map((m) => stagedBatchId(objectId, m.batchIndex)),
  );
}
