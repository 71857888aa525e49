// Crashes in the Blob → ADX flow: adx-ingester and completion-checker SIGKILLed mid-run and started again.
// Nothing may be lost or stuck (every blob settles, ADX holds each row once) and no ADX status report may
// be dropped before its row is saved. The completion timeout is long here (BASE_ENV), so every row must
// be settled by its own report, not rescued by the timeout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitUntil } from '@logferry/shared/testing/wait';
import { assertBlobOutcome, assertTablesHoldExactly } from '../src/blob-assert.ts';
import { type CorpusBlob, mixedBatch } from '../src/blob-corpus.ts';
import { type BlobFlow, countLogLines, startBlobFlow } from '../src/blob-stack.ts';

const BLOBS_PER_RUN = 90;
/** pino's line for each blob adx-ingester handed to ADX (the post to ADX is not a broker fact). */
const POSTED = /"msg":"queued for ingestion"/;

const INJECTED = 'rejected by the test: permanent failure';

/** The blob, expected to fail with the ADX stand-in's injected permanent fault (its default ErrorCode). */
function failing(blob: CorpusBlob): CorpusBlob {
  return {
    ...blob,
    expect: {
      status: 'failed',
      errorCode: 'BadRequest_InvalidBlob',
      failureStatus: 'Permanent',
      details: new RegExp(`^BadRequest_InvalidBlob \\(Permanent\\): ${INJECTED}$`),
    },
  };
}

describe('Blob → ADX flow, crash and restart', { timeout: 120_000 }, () => {
  let flow: BlobFlow;
  const diagnostics = () => flow.logTails();

  before(async () => {
    flow = await startBlobFlow({ env: { 'adx-ingester': { REPOST_AFTER_MS: '8000' } } });
  });
  after(async () => {
    await flow?.stop();
  });

  /**
   * Every blob settled as expected, ADX ingested each exactly once and holds exactly the expected rows, and no
   * row was settled by the timeout. A kill between ADX's queue taking a post and `postedAt` being saved no longer
   * re-posts: the redelivery waits REPOST_AFTER_MS for ADX's report on that source id (8 s here, far above the
   * stand-in's report latency of well under a second, as the default 15 min is above ADX's batching time), so
   * that window yields no second ingestion; a kill before the post is posted again after the wait.
   */
  async function assertAllSettled(blobs: readonly CorpusBlob[]): Promise<void> {
    const rows = await flow.api.waitForBlobs(
      blobs.map((b) => b.name),
      { diagnostics, timeoutMs: 45_000 },
    );
    for (const b of blobs) assertBlobOutcome(rows.get(b.name), b);
    const sourceIds = new Map<string, string[]>();
    for (const r of flow.stack.adx.ingestions())
      sourceIds.set(r.blobName, [...(sourceIds.get(r.blobName) ?? []), r.sourceId]);
    for (const b of blobs) {
      const ids = sourceIds.get(b.name) ?? [];
      assert.equal(ids.length, 1, `ADX ingestions of ${b.name}: ${ids.join(', ')}`);
      assert.equal(rows.get(b.name)?.sourceId, ids[0], `${b.name}: the row names the ingestion ADX ran`);
    }
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);
  }

  it('loses no blob when adx-ingester is killed mid-run and started again', async (t) => {
    // Requests pile up while the ingester is down, so the kill below lands in the middle of them.
    await flow.service('adx-ingester').stop();
    const blobs = mixedBatch('ingester-crash', BLOBS_PER_RUN);
    await flow.upload(blobs);
    const scan = await flow.api.waitForScan((await flow.api.postScan()).scanId);
    assert.equal(scan.counts.queued, BLOBS_PER_RUN);

    // Killed three times right after a post (the tenth since its start), then left to finish.
    let posted = 0;
    for (let round = 0; round < 3; round++) {
      const ingester = await flow.start('adx-ingester');
      await waitUntil('adx-ingester posting', () => countLogLines(ingester, POSTED) >= 10, {
        timeoutMs: 30_000,
        intervalMs: 50,
        diagnostics,
      });
      await ingester.kill();
      posted += countLogLines(ingester, POSTED);
    }
    assert.ok(posted < BLOBS_PER_RUN, `killed mid-run (${posted} of ${BLOBS_PER_RUN} posted)`);
    t.diagnostic(`${posted} posts logged before the three kills`);

    // Messages the dead process held come back when their locks expire; the restarted ingester finishes them.
    await flow.start('adx-ingester');
    await assertAllSettled(blobs);
  });

  it('drops no status report when completion-checker is killed mid-run and started again', async () => {
    // Reports pile up on ADX's status queues while the checker is down; every tenth blob fails, so
    // both the success and the failure queue are read across the crash.
    await flow.service('completion-checker').stop();
    const blobs = mixedBatch('checker-crash', BLOBS_PER_RUN).map((b, i) => (i % 10 === 5 ? failing(b) : b));
    flow.stack.adx.setFaults({ permanent: { match: /-checker-crash-\d{3}5\./, details: INJECTED } });
    await flow.upload(blobs);
    const names = new Set(blobs.map((b) => b.name));
    await flow.api.waitForScan((await flow.api.postScan()).scanId);
    await waitUntil(
      'ADX reporting every ingestion',
      () => flow.stack.adx.ingestions().filter((r) => names.has(r.blobName)).length >= BLOBS_PER_RUN,
      { timeoutMs: 30_000, intervalMs: 50, diagnostics },
    );

    // completion-checker publishes a blob's result once the report is applied and the row saved.
    const resultsPublished = () =>
      flow.audit
        .published('ingestion-results')
        .filter((m) => m.body.producer === 'completion-checker' && names.has(String(m.body.blobName))).length;
    const checker = await flow.start('completion-checker');
    await waitUntil('reports applied', () => resultsPublished() >= 10, {
      timeoutMs: 30_000,
      intervalMs: 50,
      diagnostics,
    });
    await checker.kill();
    const appliedBeforeKill = resultsPublished();
    assert.ok(appliedBeforeKill < BLOBS_PER_RUN, `killed mid-run (${appliedBeforeKill} of ${BLOBS_PER_RUN} applied)`);

    await flow.breakCheckerLease();
    await flow.start('completion-checker');
    await assertAllSettled(blobs);
    flow.stack.adx.setFaults({});

    // Every report was consumed, and each blob's result was published (a report deleted before its row
    // was saved would leave the row `ingesting` and the deadline above would have failed).
    await waitUntil('status queues drained', async () => (await flow.statusQueueDepth()) === 0, {
      timeoutMs: 10_000,
      intervalMs: 50,
      diagnostics,
    });
    const results = flow.audit.published('ingestion-results');
    const published = new Set(results.map((m) => `${m.body.status} ${m.body.blobName}`));
    for (const b of blobs)
      assert.ok(published.has(`${b.expect.status} ${b.name}`), `a ${b.expect.status} result for ${b.name}`);
    const rows = await flow.api.listBlobs();
    for (const name of names) assert.equal(rows.get(name)?.attempts, 1, `${name} needed no second attempt`);
  });
});
