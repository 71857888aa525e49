import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { BlobStatusRow } from '@logferry/shared/stores/blob-status';
import { toEntity } from '@logferry/shared/stores/blob-status';
import { applyReport } from '../../../completion-checker/src/apply-report.ts';
import { decodeReport } from '../../../completion-checker/src/status-report.ts';
import { createIngestRequestHandler } from '../../src/handle-ingest-request.ts';
import { type AdxFlow, delivery, flows, logger, startAdxFlow, statusTableOf } from '../support/adx-flow-fixture.ts';

describe('adx-ingester and completion-checker on Azurite and the ADX stand-in: redelivery and crashes: nothing posted twice, nothing lost', () => {
  let flow: AdxFlow;
  before(async () => {
    flow = await startAdxFlow();
  });
  after(async () => {
    await flow?.close();
  });

  it('a redelivered post of the same blob version is a no-op: it waits for the report instead of posting again', async () => {
    const name = 'TrafficFlows-killed-after-post.csv';
    const { outcome, request } = await flow.uploadAndRequest(name, flows(2));
    assert.equal(outcome.kind, 'success');
    // What adx-ingester killed between ADX's queue taking the post and `postedAt` being saved leaves behind.
    const posted = (await flow.store.get('data', name)) as BlobStatusRow;
    await statusTableOf(flow.azurite).updateEntity(toEntity({ ...posted, postedAt: undefined }) as never, 'Replace');
    const redelivered = await flow.handle(request);
    assert.equal(redelivered.kind, 'retryLater');
    assert.ok(redelivered.kind === 'retryLater' && redelivered.code === 'AwaitingAdxReport');
    assert.ok(redelivered.kind === 'retryLater' && (redelivered.delayMs ?? 0) > 60_000, 'waits, does not post');
    // ADX's report on the first post settles the row; the delayed redelivery then finds nothing to do.
    assert.equal((await flow.settle(name)).status, 'succeeded');
    assert.deepEqual(await flow.handle(request), { kind: 'success' });
    const runs = flow.adx.ingestions().filter((r) => r.blobName === name);
    assert.equal(runs.length, 1, 'ADX ran the blob once');
  });

  it('an unconfirmed post that never reached ADX is posted again once nothing was heard within REPOST_AFTER_MS', async () => {
    const name = 'TrafficFlows-killed-before-post.csv';
    const blob = flow.data.getBlockBlobClient(name);
    const body = flows(1);
    const uploaded = await blob.upload(body, Buffer.byteLength(body));
    const ref = { container: 'data', name, etag: uploaded.etag ?? '', size: Buffer.byteLength(body) };
    await flow.store.claim(ref, 'scan-1', 3);
    // Killed after saving the source id, before the post: ADX never heard of it.
    const sourceId = randomUUID();
    await flow.store.markIngesting('data', name, {
      sourceId,
      table: 'TrafficFlows',
      format: 'csv',
      mapping: 'TrafficFlows_csv',
    });
    const later = createIngestRequestHandler({ ...flow.handlerDeps, now: () => Date.now() + 900_001 });
    assert.deepEqual(await later(delivery(flow.requestOf(ref))), { kind: 'success' });
    assert.equal((await flow.settle(name)).status, 'succeeded');
    const runs = flow.adx.ingestions().filter((r) => r.blobName === name);
    assert.deepEqual(
      runs.map((r) => r.sourceId),
      [sourceId],
      'posted once, with the saved source id',
    );
  });

  it('crash between the row save and the report delete: the reprocessed report changes nothing twice', async () => {
    const name = 'TrafficFlows-crash.csv';
    flow.adx.setFaults({ transient: { match: /^TrafficFlows-crash/, times: 1 } });
    const { request } = await flow.uploadAndRequest(name, flows(1));
    const sourceId = (await flow.store.get('data', name))?.sourceId;
    await flow.adx.waitForIngestion((r) => r.sourceId === sourceId);
    flow.adx.setFaults({});
    // The checker receives the report and saves the row, then dies before deleting it.
    const failureQueue = (await flow.queues.get()).failure[0]!;
    const { receivedMessageItems } = await failureQueue.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: 30,
    });
    const reportOf = (text: string) => {
      const r = decodeReport('failure', text);
      return r.kind === 'unreadable' ? undefined : r;
    };
    const item = receivedMessageItems.find((m) => reportOf(m.messageText)?.IngestionSourceId === sourceId)!;
    const applied = await applyReport(
      { store: flow.store, publisher: flow.publisher, logger },
      reportOf(item.messageText)!,
    );
    assert.equal(applied, 'applied');
    const before = flow.publisher.of('ingest-requests').filter((r) => r.blobName === name).length;
    // Its visibility timeout runs out; the restarted checker reads it again.
    await failureQueue.updateMessage(item.messageId, item.popReceipt, undefined, 0);
    for (const other of receivedMessageItems.filter((m) => m !== item)) {
      await failureQueue.updateMessage(other.messageId, other.popReceipt, undefined, 0);
    }
    await flow.reader.pollOnce();
    const row = await flow.store.get('data', name);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 2, 'the failure counted once');
    assert.equal(row?.history.filter((h) => h.status === 'queued').length, 2, 'claim + one retry');
    assert.equal(
      flow.publisher.of('ingest-requests').filter((r) => r.blobName === name).length,
      before + 1,
      'the retry request is re-sent',
    );
    assert.equal(
      (await failureQueue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length,
      0,
      'now deleted',
    );
    const retry = flow.publisher
      .of('ingest-requests')
      .filter((r) => r.blobName === name)
      .at(-1)!;
    assert.equal(retry.attempt, 2);
    assert.equal((await flow.handle(retry)).kind, 'success');
    assert.equal((await flow.handle(retry)).kind, 'success', 'the duplicate retry request is a no-op');
    assert.equal((await flow.settle(name)).status, 'succeeded');
    assert.equal(flow.adx.ingestions().filter((i) => i.blobName === name && i.outcome === 'succeeded').length, 1);
    assert.ok(request);
  });
});
