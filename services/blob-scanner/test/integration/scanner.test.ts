import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { ingestRequestId } from '@logferry/shared/stores/ingest-request';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { EventBus, type LiveEvent } from '../../src/live/event-bus.ts';
import { EMPTY_BLOB_REASON, type ScannerOptions } from '../../src/scanner.ts';
import { AWKWARD_NAMES, RecordingPublisher, storageFixture } from '../support/fixtures.ts';

describe('scanner on Azurite', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('queues each new blob once, skips empty ones visibly, and leaves unchanged ones alone', async () => {
    const fx = await storageFixture(azurite);
    for (const name of AWKWARD_NAMES) await fx.upload(name, `content of ${name}\n`);
    await fx.upload('TrafficFlows-empty.csv', '');
    const publisher = new RecordingPublisher();
    const events = new EventBus();
    const heard: LiveEvent[] = [];
    events.subscribe((e) => heard.push(e));

    const first = fx.newScanner(publisher, events).start({ trigger: 'manual' });
    assert.equal(first.kind, 'started');
    const scan = await (first.kind === 'started' ? first.done : Promise.reject());
    assert.equal(scan.state, 'completed');
    assert.deepEqual(scan.counts, { listed: 6, queued: 5, unchanged: 0, skipped: 1, lostRace: 0, failed: 0 });

    const requests = publisher.ingestRequests();
    assert.deepEqual(requests.map((r) => r.blobName).sort(), [...AWKWARD_NAMES].sort());
    for (const r of requests) {
      assert.equal(r.container, fx.container.containerName);
      assert.equal(r.attempt, 1);
      assert.equal(r.scanId, scan.scanId);
      assert.equal(r.id, ingestRequestId(r.container, r.blobName, r.etag, 1));
      const row = await fx.store.get(r.container, r.blobName);
      assert.equal(row?.status, 'queued');
      assert.equal(row?.etag, r.etag);
      assert.equal(row?.size, r.size);
    }
    const empty = await fx.store.get(fx.container.containerName, 'TrafficFlows-empty.csv');
    assert.equal(empty?.status, 'skipped');
    assert.equal(empty?.lastError, EMPTY_BLOB_REASON);
    const results = publisher.published.filter((p) => p.topic === 'ingestion-results').map((p) => p.message);
    assert.deepEqual(
      results.map((r) => {
        const { blobName, status, sourceId } = r as { blobName: string; status: string; sourceId?: string };
        return { blobName, status, sourceId };
      }),
      [{ blobName: 'TrafficFlows-empty.csv', status: 'skipped', sourceId: undefined }],
    );

    // The page hears about every queued/skipped blob and the scan's progress.
    const blobEvents = heard.filter((e) => e.type === 'blob');
    assert.equal(blobEvents.length, 6);
    assert.ok(heard.some((e) => e.type === 'scan' && e.scan.state === 'completed'));
    // Any replica can read the scan's progress from the table.
    assert.deepEqual((await fx.scans.get(scan.scanId))?.counts, scan.counts);

    const again = fx.newScanner(publisher).start({ trigger: 'manual' });
    const rescan = await (again.kind === 'started' ? again.done : Promise.reject());
    assert.deepEqual(rescan.counts, { listed: 6, queued: 0, unchanged: 6, skipped: 0, lostRace: 0, failed: 0 });
    assert.equal(publisher.ingestRequests().length, 5, 'nothing republished');
  });

  it('compares the listing with one paged read of the status rows, not one read per blob', async () => {
    const fx = await storageFixture(azurite);
    const names = [...AWKWARD_NAMES, ...Array.from({ length: 8 }, (_, i) => `TrafficFlows-${i}.csv`)];
    for (const name of names) await fx.upload(name, 'a,b\n1,2\n');
    await fx.upload('TrafficFlows-empty.csv', '');
    const publisher = new RecordingPublisher();
    const first = fx.newScanner(publisher).start({ trigger: 'manual' });
    await (first.kind === 'started' ? first.done : Promise.reject());

    const store = new BlobStatusStore(fx.table);
    const calls = { pageReads: 0, blobReads: 0 };
    const counting: ScannerOptions['store'] = {
      scanViews: (...args) => {
        calls.pageReads++;
        return store.scanViews(...args);
      },
      claimNeeded: (view, blob) => store.claimNeeded(view, blob),
      claim: (...args) => {
        calls.blobReads++;
        return store.claim(...args);
      },
      recordSkipped: (...args) => {
        calls.blobReads++;
        return store.recordSkipped(...args);
      },
      markPublished: (...args) => store.markPublished(...args),
      releaseClaim: (...args) => store.releaseClaim(...args),
    };
    const again = fx.newScanner(publisher, undefined, { store: counting, pageSize: 4 }).start({ trigger: 'manual' });
    const rescan = await (again.kind === 'started' ? again.done : Promise.reject());
    const listed = names.length + 1;
    assert.deepEqual(rescan.counts, { listed, queued: 0, unchanged: listed, skipped: 0, lostRace: 0, failed: 0 });
    assert.deepEqual(calls, { pageReads: 1, blobReads: 0 });
  });

  it('requeues a changed blob and a retryable one with attempts left, not a permanent failure', async () => {
    const fx = await storageFixture(azurite);
    const c = fx.container.containerName;
    for (const name of ['changed.csv', 'unknown.csv', 'permanent.csv']) await fx.upload(name, 'a,b\n1,2\n');
    const publisher = new RecordingPublisher();
    const run = async () => {
      const r = fx.newScanner(publisher).start({ trigger: 'manual' });
      return r.kind === 'started' ? r.done : Promise.reject(new Error(r.kind));
    };
    await run();
    await fx.upload('changed.csv', 'a,b\n1,2\n3,4\n');
    await fx.store.markUnknown(c, 'unknown.csv', 'no report within 30 min');
    const sourceId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    await fx.store.markIngesting(c, 'permanent.csv', { sourceId, table: 'T', format: 'csv' });
    await fx.store.markFailed(c, 'permanent.csv', { reason: 'bad format', retryable: false }, { sourceId });

    const second = await run();
    assert.deepEqual(second.counts, { listed: 3, queued: 2, unchanged: 1, skipped: 0, lostRace: 0, failed: 0 });
    const latest = publisher.ingestRequests().slice(3);
    const byName = new Map(latest.map((r) => [r.blobName, r]));
    assert.equal(byName.get('changed.csv')?.attempt, 1, 'a new blob version starts over');
    assert.equal(byName.get('unknown.csv')?.attempt, 2);
    assert.equal((await fx.store.get(c, 'permanent.csv'))?.status, 'failed');
    assert.notEqual(byName.get('changed.csv')?.etag, publisher.ingestRequests()[0]?.etag);
  });

  it('two scanners on the same table queue each blob exactly once', async () => {
    const fx = await storageFixture(azurite);
    const names = Array.from({ length: 24 }, (_, i) => `Json-${String(i).padStart(2, '0')} x+y#z.json`);
    await Promise.all(names.map((n) => fx.upload(n, '{"a":1}')));
    const publisher = new RecordingPublisher();
    const [a, b] = [fx.newScanner(publisher), fx.newScanner(publisher)].map((s) => s.start({ trigger: 'manual' }));
    const scans = await Promise.all([a, b].map((r) => (r?.kind === 'started' ? r.done : Promise.reject())));
    const published = publisher.ingestRequests().map((r) => r.blobName);
    assert.deepEqual([...published].sort(), names, 'every blob published once, none twice');
    const total = (k: 'queued' | 'unchanged' | 'lostRace') => scans.reduce((n, s) => n + s.counts[k], 0);
    assert.equal(total('queued'), names.length);
    assert.equal(total('queued') + total('unchanged') + total('lostRace'), 2 * names.length);
  });

  it('releases claims whose publish failed and queues them on the next scan with the same attempt', async () => {
    const fx = await storageFixture(azurite);
    await fx.upload('a.csv', 'x\n');
    await fx.upload('b.csv', 'y\n');
    const publisher = new RecordingPublisher();
    publisher.failWith = new Error('broker unavailable');
    const start = () => {
      const r = fx.newScanner(publisher).start({ trigger: 'manual' });
      return r.kind === 'started' ? r.done : Promise.reject();
    };
    const failed = await start();
    assert.equal(failed.counts.failed, 2);
    assert.equal(failed.counts.queued, 0);
    const row = await fx.store.get(fx.container.containerName, 'a.csv');
    assert.equal(row?.status, 'queued');
    assert.equal(row?.publishedAt, undefined);
    assert.match(row?.lastError ?? '', /publishing to ingest-requests failed \(broker unavailable\)/);

    publisher.failWith = undefined;
    const retried = await start();
    assert.equal(retried.counts.queued, 2);
    assert.deepEqual(
      publisher
        .ingestRequests()
        .map((r) => r.blobName)
        .sort(),
      ['a.csv', 'b.csv'],
    );
    const after = await fx.store.get(fx.container.containerName, 'a.csv');
    assert.equal(after?.status, 'queued');
    assert.equal(after?.attempts, 1, 'a failed publish does not use up an attempt');
    assert.ok(after?.publishedAt);
  });

  it('a blob claimed by a scanner that died before publishing is claimed again once its lease runs out', async () => {
    const fx = await storageFixture(azurite);
    await fx.upload('stranded.csv', 'x\n');
    let etag = '';
    for await (const b of fx.container.listBlobsFlat()) etag = b.properties.etag;
    // What a SIGKILL between claim and publish leaves: a queued row, never published (claim lease 120 s).
    const blob = { container: fx.container.containerName, name: 'stranded.csv', etag, size: 2 };
    assert.equal((await fx.store.claim(blob, 'dead-scan', 3)).outcome, 'claimed');
    const publisher = new RecordingPublisher();
    const scan = async (now?: () => Date) => {
      const store = new BlobStatusStore(fx.table, now ? { now } : {});
      const r = fx.newScanner(publisher, undefined, { store }).start({ trigger: 'manual' });
      return r.kind === 'started' ? r.done : Promise.reject();
    };
    assert.equal((await scan()).counts.queued, 0, 'inside the lease the claim stands');
    assert.equal(
      (await scan(() => new Date(Date.now() + 121_000))).counts.queued,
      1,
      'after the lease the next scan claims it again',
    );
    const row = await fx.store.get(fx.container.containerName, 'stranded.csv');
    assert.equal(row?.attempts, 1);
    assert.ok(row?.publishedAt);
    assert.match(row?.history.at(-1)?.reason ?? '', /claimed again .* never published/);
    assert.deepEqual(
      publisher.ingestRequests().map((r) => [r.blobName, r.attempt]),
      [['stranded.csv', 1]],
    );
  });

  it('runs one scan at a time per replica and scans only the prefix asked for', async () => {
    const fx = await storageFixture(azurite);
    await fx.upload('Json-1.json', '{}');
    await fx.upload('TrafficFlows-1.csv', 'a\n');
    const publisher = new RecordingPublisher();
    publisher.hold();
    const scanner = fx.newScanner(publisher);
    const first = scanner.start({ prefix: 'Json-', trigger: 'manual' });
    const same = scanner.start({ prefix: 'Json-', trigger: 'schedule' });
    const other = scanner.start({ trigger: 'manual' });
    assert.equal(first.kind, 'started');
    assert.equal(same.kind, 'joined');
    assert.equal(same.scan.scanId, first.scan.scanId);
    assert.equal(other.kind, 'busy');
    publisher.release();
    const done = await (first.kind === 'started' ? first.done : Promise.reject());
    assert.deepEqual(
      publisher.ingestRequests().map((r) => r.blobName),
      ['Json-1.json'],
    );
    assert.equal(scanner.recent(done.scanId)?.state, 'completed');
    assert.equal(scanner.start({ trigger: 'manual' }).kind, 'started', 'free again once the scan ended');
    await scanner.stop();
  });
});
