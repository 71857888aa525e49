// Outages and a scanner crash in the Blob → ADX flow, with the services as processes: ADX's management
// endpoint down five times longer than adx-ingester's retry budget dead-letters nothing and every blob is
// ingested once afterwards; blob-scanner SIGKILLed mid-scan leaves claimed rows the next scan after the
// claim lease queues again, with their attempts intact.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { waitUntil } from '@logferry/shared/testing/wait';
import { assertBlobOutcome, assertTablesHoldExactly } from '../src/blob-assert.ts';
import { type CorpusBlob, mixedBatch } from '../src/blob-corpus.ts';
import { type BlobFlow, startBlobFlow } from '../src/blob-stack.ts';

// adx-ingester's retry budget here: 3 attempts, backoff capped at 400 ms, about 1 s in all. The outage
// lasts 10 s, the ratio of a 10-minute outage to the default budget (8 attempts, ~2 minutes).
const OUTAGE_MS = 10_000;
const CLAIM_LEASE_MS = 3_000;

describe('Blob → ADX flow: an ADX outage and a scanner crash', { timeout: 180_000 }, () => {
  let flow: BlobFlow;
  let store: BlobStatusStore;
  const diagnostics = () => flow.logTails();

  before(async () => {
    flow = await startBlobFlow({
      env: {
        'adx-ingester': {
          MAX_ATTEMPTS: '3',
          RETRY_BASE_MS: '100',
          RETRY_MAX_MS: '400',
          BREAKER_THRESHOLD: '3',
          BREAKER_PAUSE_BASE_MS: '500',
          BREAKER_PAUSE_MAX_MS: '2000',
        },
        // One publish per request: claimed-but-unpublished rows exist long enough for the kill to find them.
        'blob-scanner': { SCAN_CLAIM_LEASE_MS: String(CLAIM_LEASE_MS), SCAN_PUBLISH_BATCH: '1' },
      },
    });
    store = new BlobStatusStore(
      TableClient.fromConnectionString(flow.stack.endpoints.storageConnectionString, flow.stack.endpoints.statusTable, {
        allowInsecureConnection: true,
      }),
    );
  });
  after(async () => {
    await flow?.stop();
  });

  /** Every blob settled as expected, ADX ran each exactly once, and the tables hold exactly the expected rows. */
  async function assertEachOnce(blobs: readonly CorpusBlob[]): Promise<void> {
    const rows = await flow.api.waitForBlobs(
      blobs.map((b) => b.name),
      { diagnostics, timeoutMs: 60_000 },
    );
    for (const b of blobs) assertBlobOutcome(rows.get(b.name), b);
    for (const b of blobs) {
      const runs = flow.stack.adx.ingestions().filter((r) => r.blobName === b.name);
      assert.equal(runs.length, 1, `ADX ingestions of ${b.name}: ${runs.map((r) => r.sourceId).join(', ')}`);
      assert.equal(rows.get(b.name)?.attempts, 1, `${b.name} used no attempt on the fault`);
    }
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);
    assert.deepEqual(flow.stack.serviceBus.deadLetters('ingest-requests', 'adx-ingester'), [], 'nothing dead-lettered');
  }

  it('ADX management down for five times the retry budget: no dead letter, every blob ingested once after', async (t) => {
    const blobs = mixedBatch('adx-outage', 24);
    flow.stack.adx.setFaults({ mgmtStatus: 503 });
    await flow.upload(blobs);
    const scan = await flow.api.waitForScan((await flow.api.postScan()).scanId);
    assert.equal(scan.counts.queued, blobs.length);
    const ingester = flow.service('adx-ingester');
    await waitUntil('adx-ingester pausing', () => ingester.output().includes('pausing intake'), {
      timeoutMs: 30_000,
      intervalMs: 50,
      diagnostics,
    });
    const during = await fetch(`http://127.0.0.1:${ingester.healthPort}/readyz`);
    const body = await during.text();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    flow.stack.adx.setFaults({});
    await assertEachOnce(blobs);
    assert.equal(during.status, 503, 'not ready while ADX is down');
    assert.match(body, /"dependency":"adx","state":"(open|half-open)"/);
    assert.ok(ingester.output().includes('dependency answering again: intake resumed'));
    t.diagnostic(`breaker transitions: ${ingester.output().split('"dependency":"adx"').length - 1} adx log lines`);
  });

  it('blob-scanner SIGKILLed mid-scan: every claimed blob is queued again by the next scan after the lease', async (t) => {
    const blobs = mixedBatch('scanner-kill', 120);
    await flow.upload(blobs);
    const names = new Set(blobs.map((b) => b.name));
    const stranded = async () =>
      (await store.list({ container: flow.stack.endpoints.dataContainer, pageSize: 1000, prefix: 'T' })).rows
        .concat((await store.list({ container: flow.stack.endpoints.dataContainer, pageSize: 1000, prefix: 'A' })).rows)
        .concat((await store.list({ container: flow.stack.endpoints.dataContainer, pageSize: 1000, prefix: 'D' })).rows)
        .filter((r) => names.has(r.blobName) && r.status === 'queued' && !r.publishedAt);
    await flow.api.postScan();
    let killedAt = 0;
    await waitUntil(
      'a claimed, unpublished row',
      async () => {
        if ((await stranded()).length === 0) return false;
        await flow.service('blob-scanner').kill();
        killedAt = Date.now();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 50, diagnostics },
    );
    const left = await stranded();
    t.diagnostic(`killed with ${left.length} claimed but unpublished rows`);
    assert.ok(left.length > 0, 'the kill left claimed rows behind');

    await flow.start('blob-scanner');
    // Inside the lease the claims stand; the first scan after it takes them over.
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + CLAIM_LEASE_MS + 200 - Date.now())));
    await flow.api.waitForScan((await flow.api.postScan()).scanId);
    // A row the killed scanner had published but not yet marked moved on through adx-ingester; the others,
    // never published, were claimed again (same attempt) and published by this scan.
    let reclaimed = 0;
    for (const row of left) {
      const now = await store.get(row.container, row.blobName);
      assert.ok(now && (now.status !== 'queued' || now.publishedAt), `${row.blobName} is no longer stranded`);
      if (/claimed again .* never published/.test(now.history.map((h) => h.reason ?? '').join('\n'))) {
        reclaimed++;
        assert.ok(now.publishedAt && Date.parse(now.publishedAt) - killedAt < CLAIM_LEASE_MS + 10_000);
      }
    }
    t.diagnostic(`${reclaimed} of ${left.length} stranded rows claimed again by the next scan`);
    assert.ok(reclaimed > 0, 'the next scan claimed stranded rows again');
    await assertEachOnce(blobs);
  });
});
