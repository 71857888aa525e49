import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@logferry/shared/logging/logger';
import type { IngestionResultMessage } from '@logferry/shared/messages/ingestion-result';
import type { BlobStatusRow } from '@logferry/shared/stores/blob-status';
import type { Delivery } from '@logferry/shared/transport/port';
import { CountsFeed } from '../../src/live/counts-feed.ts';
import { EventBus, type LiveEvent } from '../../src/live/event-bus.ts';
import { resultsFeedHandler } from '../../src/live/results-feed.ts';

const logger = createLogger('test', { level: 'silent' });

function delivery(container: string, status: IngestionResultMessage['status']): Delivery<IngestionResultMessage> {
  const body: IngestionResultMessage = {
    type: 'ingestion-result',
    schemaVersion: 1,
    id: 'r',
    producer: 'completion-checker',
    time: new Date().toISOString(),
    container,
    blobName: 'x.csv',
    sourceId: '6f1c2d4e-8a9b-4c0d-9e1f-2a3b4c5d6e7f',
    status,
  };
  return { body, messageId: 'r', deliveryCount: 1, attempt: 1 } as Delivery<IngestionResultMessage>;
}

describe('live feeds', () => {
  it('relays results for the data container only, with the row when it can be read', async () => {
    const events = new EventBus();
    const heard: LiveEvent[] = [];
    events.subscribe((e) => heard.push(e));
    const row = { blobName: 'x.csv', status: 'failed' } as BlobStatusRow;
    let reads = 0;
    const store = {
      get: async () => {
        reads++;
        if (reads === 2) throw new Error('table unavailable');
        return row;
      },
    };
    const handler = resultsFeedHandler({ container: 'data', store, events, logger });
    assert.deepEqual(await handler(delivery('staging', 'succeeded')), { kind: 'success' });
    assert.equal(heard.length, 0);
    await handler(delivery('data', 'failed'));
    await handler(delivery('data', 'succeeded'));
    assert.deepEqual(heard, [
      { type: 'blob', container: 'data', blobName: 'x.csv', status: 'failed', row },
      { type: 'blob', container: 'data', blobName: 'x.csv', status: 'succeeded' },
    ]);
  });

  it('relays a skipped result, which has no source id, even when the row cannot be read', async () => {
    const events = new EventBus();
    const heard: LiveEvent[] = [];
    events.subscribe((e) => heard.push(e));
    const store = {
      get: async (): Promise<BlobStatusRow | undefined> => {
        throw new Error('table unavailable');
      },
    };
    const { sourceId: _, ...skipped } = delivery('data', 'skipped').body;
    const handler = resultsFeedHandler({ container: 'data', store, events, logger });
    const result = await handler({ ...delivery('data', 'skipped'), body: { ...skipped, producer: 'adx-ingester' } });
    assert.deepEqual(result, { kind: 'success' });
    assert.deepEqual(heard, [{ type: 'blob', container: 'data', blobName: 'x.csv', status: 'skipped' }]);
  });

  it('publishes counts only when they change', async () => {
    const events = new EventBus();
    const heard: LiveEvent[] = [];
    events.subscribe((e) => heard.push(e));
    const counts = { new: 0, queued: 1, ingesting: 0, succeeded: 0, failed: 0, skipped: 0, unknown: 0 };
    const feed = new CountsFeed({
      store: { countsByStatus: async () => ({ ...counts }) },
      events,
      logger,
      container: 'data',
      intervalMs: 60_000,
    });
    await feed.refresh();
    await feed.refresh();
    counts.queued = 0;
    counts.succeeded = 1;
    await feed.refresh();
    assert.deepEqual(
      heard.map((e) => e.type === 'counts' && e.counts.succeeded),
      [0, 1],
    );
  });
});
