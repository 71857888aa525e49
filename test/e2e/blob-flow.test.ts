// Blob → ADX end to end: blob-scanner, adx-ingester and completion-checker as separate processes against
// Azurite, the Service Bus stand-in and the ADX stand-in; a scan started through the HTTP API as the page
// starts it; results checked where a user checks them (the API, the page's data, ADX's tables).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SETTLED } from '../src/blob-api.ts';
import { assertBlobOutcome, assertTablesHoldExactly, statusTrail } from '../src/blob-assert.ts';
import {
  authBatch,
  type CorpusBlob,
  corpus,
  flowRows,
  flowsCsv,
  MALFORMED_FIXED,
  MALFORMED_NAME,
  ODD_NAME,
} from '../src/blob-corpus.ts';
import { type BlobFlow, startBlobFlow } from '../src/blob-stack.ts';

describe('Blob → ADX flow, services as processes', { timeout: 120_000 }, () => {
  let flow: BlobFlow;
  const diagnostics = () => flow.logTails();

  before(async () => {
    flow = await startBlobFlow();
  });
  after(async () => {
    await flow?.stop();
  });

  it('ingests the corpus: exact rows per table, and each blob shows its status and reason', async () => {
    const blobs = corpus();
    await flow.upload(blobs);
    const started = await flow.api.postScan();
    assert.equal(started.status, 202);
    const scan = await flow.api.waitForScan(started.scanId);
    assert.equal(scan.counts.listed, blobs.length);
    assert.equal(scan.counts.queued, blobs.length - 1, 'every blob but the empty one is queued');
    assert.equal(scan.counts.skipped, 1, 'the empty blob is skipped by the scan');

    const rows = await flow.api.waitForBlobs(
      blobs.map((b) => b.name),
      { diagnostics },
    );
    for (const b of blobs) assertBlobOutcome(rows.get(b.name), b);
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);

    // The failure's ErrorCode and Details are the ones ADX (the stand-in) reported.
    const reported = flow.stack.adx.ingestions().find((r) => r.blobName === MALFORMED_NAME);
    assert.equal(reported?.outcome, 'failed');
    assert.equal(rows.get(MALFORMED_NAME)?.errorCode, reported?.errorCode);
    assert.ok(rows.get(MALFORMED_NAME)?.lastError?.endsWith(`: ${reported?.details}`));
    // …and what `ingestion-results` carried to open pages and alerts.
    const results = flow.audit.published('ingestion-results');
    const failure = results.find((m) => m.body.blobName === MALFORMED_NAME)?.body;
    assert.equal(failure?.status, 'failed');
    assert.equal(failure?.errorCode, reported?.errorCode);
    assert.equal(failure?.failureStatus, 'Permanent');
    assert.match(String(failure?.details), new RegExp(escapeRegExp(reported?.details ?? '?')));
    for (const b of blobs.filter((x) => x.expect.status === 'succeeded')) {
      assert.ok(
        results.some((m) => m.body.blobName === b.name && m.body.status === 'succeeded'),
        `result for ${b.name}`,
      );
    }
  });

  it('shows a blob’s history by its name, however odd the name', async () => {
    const row = await flow.api.getBlob(ODD_NAME);
    assert.ok(row, 'GET /blobs/{name} finds the blob whose name has spaces, + and #');
    assert.equal(row.blobName, ODD_NAME);
    assert.deepEqual(statusTrail(row), ['queued', 'ingesting', 'succeeded']);
    assert.match(row.history[0]?.reason ?? '', /new blob/);
    assert.match(row.history[1]?.reason ?? '', new RegExp(`source id ${row.sourceId}`));
    assert.match(row.history[2]?.reason ?? '', /ingested into TrafficFlows/);
    for (const h of row.history) assert.ok(!Number.isNaN(Date.parse(h.at)), `history time ${h.at}`);
    const failed = await flow.api.getBlob(MALFORMED_NAME);
    assert.deepEqual(failed && statusTrail(failed), ['queued', 'ingesting', 'failed']);
    assert.equal(await flow.api.getBlob('TrafficFlows-never-uploaded.csv'), undefined);
  });

  it('ingests a failed blob once it is fixed and uploaded again, on the next scan', async () => {
    const fixed: CorpusBlob = {
      name: MALFORMED_NAME,
      body: flowsCsv(MALFORMED_FIXED),
      expect: { status: 'succeeded', table: 'TrafficFlows', rows: flowRows(MALFORMED_FIXED) },
    };
    const [uploaded] = await flow.upload([fixed]);
    const scan = await flow.api.waitForScan((await flow.api.postScan()).scanId);
    assert.equal(scan.counts.queued, 1, 'only the changed blob is queued again');
    const rows = await flow.api.waitForBlobs([MALFORMED_NAME], {
      // Listings give the ETag unquoted, upload responses quoted.
      done: (r) => unquote(r.etag) === unquote(uploaded?.etag) && SETTLED.includes(r.status),
      diagnostics,
    });
    assertBlobOutcome(rows.get(MALFORMED_NAME), fixed);
    const row = await flow.api.getBlob(MALFORMED_NAME);
    assert.deepEqual(row && statusTrail(row), ['queued', 'ingesting', 'failed', 'queued', 'ingesting', 'succeeded']);
    assert.match(row?.history[3]?.reason ?? '', /blob changed/);
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);
  });

  it('queues each blob once when two scans run at once, on one replica and on two', async () => {
    const before = flow.audit.ingestRequestsPerBlob();
    // Two clicks at once on one replica: the second joins the running scan instead of starting another.
    const first = authBatch('click', 30);
    await flow.upload(first);
    const clicks = await Promise.all([flow.api.postScan(), flow.api.postScan()]);
    assert.equal(clicks[0]?.scanId, clicks[1]?.scanId, 'the second click follows the running scan');
    assert.deepEqual(clicks.map((c) => c.alreadyRunning).sort(), [false, true]);
    const clickScan = await flow.api.waitForScan(clicks[0]?.scanId ?? '');
    assert.equal(clickScan.counts.queued, first.length);

    // Two replicas scanning the same container at the same moment.
    const second = authBatch('replica', 30, 100);
    await flow.upload(second);
    const replica = await flow.startExtraScanner();
    const starts = await Promise.all([flow.api.postScan(), replica.api.postScan()]);
    assert.notEqual(starts[0]?.scanId, starts[1]?.scanId);
    const [a, b] = await Promise.all([
      flow.api.waitForScan(starts[0]?.scanId ?? ''),
      replica.api.waitForScan(starts[1]?.scanId ?? ''),
    ]);
    assert.ok(a && b);
    assert.equal(
      a.counts.queued + b.counts.queued,
      second.length,
      'the two scans queued each new blob once between them',
    );
    await replica.process.stop();

    const blobs = [...first, ...second];
    const rows = await flow.api.waitForBlobs(
      blobs.map((x) => x.name),
      { diagnostics },
    );
    for (const x of blobs) assertBlobOutcome(rows.get(x.name), x);
    const requests = flow.audit.ingestRequestsPerBlob();
    const ingestions = countBy(flow.stack.adx.ingestions().map((r) => r.blobName));
    for (const x of blobs) {
      assert.equal((requests.get(x.name) ?? 0) - (before.get(x.name) ?? 0), 1, `ingest requests for ${x.name}`);
      assert.equal(ingestions.get(x.name), 1, `ADX ingestions of ${x.name}`);
      assert.equal(rows.get(x.name)?.attempts, 1, `attempts of ${x.name}`);
    }
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);
  });

  it('marks a blob whose report never arrives unknown after the timeout, and examines it again', async () => {
    // A checker with a short timeout (the default, an hour, is for ADX's real batching delays).
    await flow.service('completion-checker').stop();
    await flow.start('completion-checker', { STALE_AFTER_MS: '3000', STALE_CHECK_INTERVAL_MS: '300' });
    const [blob] = authBatch('silent', 1, 500);
    assert.ok(blob);
    flow.stack.adx.setFaults({ silent: { match: /^AuthEvents-silent-/ } });
    await flow.upload([blob]);
    await flow.api.waitForScan((await flow.api.postScan()).scanId);
    // ADX took the ingestion and will never report it; from now on it behaves.
    const dropped = await flow.stack.adx.waitForIngestion((r) => r.blobName === blob.name && r.outcome === 'silent');
    flow.stack.adx.setFaults({});

    const rows = await flow.api.waitForBlobs([blob.name], { diagnostics, timeoutMs: 30_000 });
    assertBlobOutcome(rows.get(blob.name), blob);
    const row = await flow.api.getBlob(blob.name);
    assert.ok(row);
    assert.deepEqual(statusTrail(row), ['queued', 'ingesting', 'unknown', 'queued', 'ingesting', 'succeeded']);
    assert.match(row.history[2]?.reason ?? '', /no ingestion report within .* \(was ingesting\)/);
    assert.match(row.history[3]?.reason ?? '', /queued again after the timeout/);
    // ADX's silence is not the blob's fault (issue 9): the rescue keeps the attempt and is counted apart.
    assert.equal(row.attempts, 1);
    assert.equal(row.rescues, 1);
    assert.notEqual(row.sourceId, dropped.sourceId, 'examined again as a new ingestion');
    assertTablesHoldExactly(flow.stack.adx.tables(), flow.expected);
  });
});

function unquote(etag: string | undefined): string {
  return (etag ?? '').replace(/^"|"$/g, '');
}

function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
