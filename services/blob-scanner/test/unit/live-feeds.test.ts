import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '@logferry/shared/logging/logger';
import type { IngestionResultMessage } from '@logferry/shared/messages/ingestion-result';
import type { BlobStatus, BlobStatusRow } from '@logferry/shared/stores/blob-status';
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
    const rows = new Map<string, BlobStatus>([['a.csv', 'queued']]);
    const feed = new CountsFeed({
      store: { statuses: async () => new Map(rows) },
      events,
      logger,
      container: 'data',
      intervalMs: 60_000,
    });
    await feed.refresh();
    await feed.refresh();
    assert.equal(heard.length, 0, 'the first read is the baseline a page reads itself');
    assert.deepEqual(feed.counts, { ...ZERO, queued: 1 });
    rows.set('a.csv', 'succeeded');
    await feed.refresh();
    await feed.refresh();
    assert.deepEqual(
      heard.map((e) => e.type === 'counts' && [e.counts.queued, e.counts.succeeded]),
      [[0, 1]],
    );
  });

  it('keeps the counts up to date from blob events without reading the table again', async () => {
    const events = new EventBus();
    const published: Record<BlobStatus, number>[] = [];
    events.subscribe((e) => {
      if (e.type === 'counts') published.push(e.counts);
    });
    let reads = 0;
    const rows = new Map<string, BlobStatus>(Array.from({ length: 500 }, (_, i) => [`old-${i}.csv`, 'succeeded']));
    const store = {
      statuses: async () => {
        reads++;
        return new Map(rows);
      },
    };
    const feed = new CountsFeed({ store, events, logger, container: 'data', intervalMs: 60_000, debounceMs: 20 });
    feed.start();
    try {
      await feed.refresh();
      const blob = (name: string, status: BlobStatus, container = 'data') =>
        events.publish({ type: 'blob', container, blobName: name, status });
      for (let i = 0; i < 1_000; i++) blob(`new-${i}.csv`, 'queued');
      for (let i = 0; i < 400; i++) blob(`new-${i}.csv`, 'succeeded');
      blob('new-999.csv', 'failed');
      blob('old-0.csv', 'queued');
      blob('new-1.csv', 'succeeded');
      blob('elsewhere.csv', 'queued', 'other');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(reads, 1, 'one read, at start');
      assert.deepEqual(feed.counts, { ...ZERO, queued: 600, succeeded: 899, failed: 1 });
      assert.deepEqual(published.at(-1), feed.counts);
      assert.ok(published.length <= 3, `events coalesced: ${published.length} publications`);
    } finally {
      feed.stop();
    }
  });
});

const ZERO: Record<BlobStatus, number> = {
  new: 0,
  queued: 0,
  ingesting: 0,
  succeeded: 0,
  failed: 0,
  skipped: 0,
  unknown: 0,
};
