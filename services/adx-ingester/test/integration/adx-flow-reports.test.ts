import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { StaleSweeper } from '../../../completion-checker/src/stale-sweeper.ts';
import { type AdxFlow, flows, logger, startAdxFlow, statusTableOf } from '../support/adx-flow-fixture.ts';

describe('adx-ingester and completion-checker on Azurite and the ADX stand-in: ADX reports: transient failures retried, foreign reports left alone, silence swept to unknown', () => {
  let flow: AdxFlow;
  before(async () => {
    flow = await startAdxFlow();
  });
  after(async () => {
    await flow?.close();
  });

  it('a transient failure is queued again and succeeds on the next attempt', async () => {
    flow.adx.setFaults({ transient: { match: /^TrafficFlows-flaky/, times: 1 } });
    const name = 'TrafficFlows-flaky.csv';
    await flow.uploadAndRequest(name, flows(2));
    const row = await flow.settle(name, (r) => r.status === 'queued' && r.attempts === 2);
    assert.equal(row?.attempts, 2);
    assert.equal(row?.failureStatus, 'Transient');
    const retry = flow.publisher.of('ingest-requests').find((r) => r.blobName === name);
    assert.equal(retry?.attempt, 2);
    assert.equal((await flow.handle(retry!)).kind, 'success');
    const done = await flow.settle(name);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 2);
    flow.adx.setFaults({});
  });

  it('a report for a source id no row knows is left on the shared queue', async () => {
    const successQueue = (await flow.queues.get()).success[0]!;
    const foreign = {
      IngestionSourceId: randomUUID(),
      Database: 'other',
      Table: 'Other',
      SucceededOn: new Date().toISOString(),
    };
    await successQueue.sendMessage(Buffer.from(JSON.stringify(foreign)).toString('base64'));
    await flow.reader.pollOnce();
    assert.equal((await successQueue.peekMessages()).peekedMessageItems.length, 0, 'hidden from us for a while');
    const { receivedMessageItems } = await successQueue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
    assert.equal(receivedMessageItems.length, 0, 'still hidden');
    const props = await successQueue.getProperties();
    assert.equal(props.approximateMessagesCount, 1, 'but not deleted');
  });

  it('a blob whose report never arrives becomes unknown after the timeout and is queued again', async () => {
    flow.adx.setFaults({ silent: { match: /^TrafficFlows-silent/ } });
    const name = 'TrafficFlows-silent.csv';
    await flow.uploadAndRequest(name, flows(1));
    const sourceId = (await flow.store.get('data', name))?.sourceId;
    await flow.adx.waitForIngestion((r) => r.sourceId === sourceId && r.outcome === 'silent');
    flow.adx.setFaults({});
    await flow.reader.pollOnce();
    assert.equal((await flow.store.get('data', name))?.status, 'ingesting', 'no report: still ingesting');
    // Two hours later (the sweeper's clock), with a one-hour timeout.
    const later = () => new Date(Date.now() + 2 * 3600_000);
    const lateStore = new BlobStatusStore(statusTableOf(flow.azurite), { now: later });
    const sweeper = new StaleSweeper({
      store: lateStore,
      publisher: flow.publisher,
      logger,
      staleAfterMs: 3600_000,
      limit: 100,
      maxRescues: 3,
      reportLevel: 'FailuresAndSuccesses',
      now: later,
    });
    const counts = await sweeper.sweepOnce();
    assert.ok(counts.unknown >= 1 && counts.requeued >= 1);
    const row = await flow.store.get('data', name);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 1, 'ADX silence is not the blob’s fault: the rescue keeps its attempt');
    assert.equal(row?.rescues, 1);
    assert.deepEqual(
      row?.history.slice(-3).map((h) => h.status),
      ['ingesting', 'unknown', 'queued'],
    );
    assert.match(row?.history.at(-2)?.reason ?? '', /no ingestion report within 60 min/);
    assert.ok(flow.publisher.of('ingestion-results').some((r) => r.blobName === name && r.status === 'unknown'));
    const requests = flow.publisher.of('ingest-requests').filter((r) => r.blobName === name);
    const retry = requests.at(-1);
    assert.equal(retry?.attempt, 1);
    assert.equal(new Set(requests.map((r) => r.id)).size, requests.length, 'the rescue has an id of its own');
    assert.equal((await flow.handle(retry!)).kind, 'success');
    assert.equal((await flow.settle(name)).status, 'succeeded');
  });
});
