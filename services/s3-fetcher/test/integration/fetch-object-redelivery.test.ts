// s3-fetcher's handler under at-least-once delivery: concurrent deliveries, an interrupted object, a lost lock.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { code42Event, gzipNdjson, multiset, withoutEnrichment } from './corpus.ts';
import { checkedStagedRecords, useFetchObjectHarness } from './fetch-object-support.ts';
import { delivery, RecordingPublisher, SETTINGS } from './fixture.ts';

describe('s3-fetcher handler on redelivery (fauxqs, Azurite)', () => {
  const harness = useFetchObjectHarness();

  it('two deliveries of the same object at once: one stages it, the other retries after the claim', async () => {
    const events = Array.from({ length: 5_000 }, (_, i) => code42Event(i, Date.UTC(2023, 7, 1)));
    const m = await harness.put('twice/duplicate-notification.json.gz', gzipNdjson(events));
    const { handler, publisher } = harness.handler();
    const both = await Promise.all([handler(delivery(m)), handler(delivery({ ...m, id: 'second-notification' }))]);
    assert.deepEqual(both.map((o) => o.kind).sort(), ['retryLater', 'success'], JSON.stringify(both));
    const waiting = both.find((o) => o.kind === 'retryLater');
    assert.equal(waiting?.kind === 'retryLater' ? waiting.code : '', 'InFlightElsewhere');
    const published = [...publisher.messages];
    assert.deepEqual(
      multiset((await checkedStagedRecords(harness, published)).map(withoutEnrichment)),
      multiset(events),
    );
    assert.deepEqual(await handler(delivery(m)), { kind: 'success' });
    assert.equal(publisher.messages.length, published.length, 'the redelivery finds it staged');
  });

  it('republishes the same batch ids and blob names when an interrupted object is processed again', async () => {
    const events = Array.from({ length: 30_000 }, (_, i) => code42Event(i, Date.UTC(2023, 5, 1)));
    const m = await harness.put('retry/crash-midway.json.gz', gzipNdjson(events));
    const flaky = new RecordingPublisher();
    flaky.failAfter = 3;
    const settings = { ...SETTINGS, publishGroupSize: 2 };
    const first = harness.handler({ publisher: flaky, settings }).handler;
    const outcome = await first(delivery(m));
    assert.equal(outcome.kind, 'retryLater');
    assert.ok(flaky.messages.length > 0 && flaky.messages.length <= 3);

    const { handler: second, publisher: good } = harness.handler({ settings });
    assert.deepEqual(await second(delivery(m)), { kind: 'success' });
    for (const early of flaky.messages) {
      const again = good.messages.find((x) => x.batchIndex === early.batchIndex);
      assert.equal(again?.id, early.id);
      assert.equal(again?.blobName, early.blobName);
    }
    assert.deepEqual(
      multiset((await checkedStagedRecords(harness, good.messages)).map(withoutEnrichment)),
      multiset(events),
    );
  });

  it('stops and asks for a retry when the lock is lost mid-object', async () => {
    const events = Array.from({ length: 20_000 }, (_, i) => code42Event(i));
    const m = await harness.put('abort/lock-lost.json.gz', gzipNdjson(events));
    const controller = new AbortController();
    const publisher = new RecordingPublisher();
    const original = publisher.publish.bind(publisher);
    publisher.publish = async (topic, messages) => {
      await original(topic, messages);
      controller.abort(new Error('lock lost'));
    };
    const { handler } = harness.handler({ publisher, settings: { ...SETTINGS, publishGroupSize: 1 } });
    const result = await handler(delivery(m, controller.signal));
    assert.equal(result.kind, 'retryLater');
    assert.ok(publisher.messages.length < 10, 'stopped soon after the abort');
    // Not staged: the row shows the attempt that started (the page's "fetching"), for the redelivery to finish.
    const row = await harness.stores.status.get(publisher.messages[0]!.objectId);
    assert.equal(row?.state, 'fetching');
    assert.equal(row?.attempts, 1);
  });
});
