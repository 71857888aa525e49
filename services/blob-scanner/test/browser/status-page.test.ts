// The status page in Debian's Chromium (playwright-core). First on the running pipeline: the local stack's
// stand-ins and blob-scanner, adx-ingester and completion-checker as separate processes (the end-to-end
// helpers of test/), so every change the page shows was made by a real stage. Then in-process, for what
// the pipeline cannot stage on demand: an API that needs a key, and a result consumed by another replica.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { IngestionResultMessage } from '@logferry/shared/messages/index';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import type { Delivery } from '@logferry/shared/transport/port';
import type { Browser, Page } from 'playwright-core';
import { corpus, MALFORMED_NAME, ODD_NAME } from '../../../../test/src/blob-corpus.ts';
import { type BlobFlow, startBlobFlow } from '../../../../test/src/blob-stack.ts';
import type { LiveEvent } from '../../src/live/event-bus.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { ARTIFACTS, launchChromium as launch, WAIT_MS } from './chromium.ts';

const KEY = 'browser-test-key-0123456789abcdef';

const row = (page: Page, name: string) => page.locator(`#blob-rows tr[data-name="${name.replace(/"/g, '\\"')}"]`);
const rowIn = (page: Page, name: string, status: string) =>
  row(page, name).and(page.locator(`[data-status="${status}"]`));
const chip = (page: Page, status: string, value: number) =>
  page.locator(`.chip-${status} .chip-value`).getByText(String(value), { exact: true });

/** Opens a page that records its script errors and its navigations (a reload would count as one). */
async function openPage(browser: Browser, url: string, height = 900) {
  const page = await browser.newPage({ viewport: { width: 1280, height } });
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  let navigations = 0;
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations++);
  await page.goto(url);
  return { page, errors, navigations: () => navigations };
}

describe('status page in headless Chromium, on the running pipeline', { timeout: 180_000 }, () => {
  let flow: BlobFlow;
  let browser: Browser;
  const names = ['TrafficFlows-2024-05-01.csv', ODD_NAME, MALFORMED_NAME, 'Firewall-2024-05-01.log'];
  const [good, odd, malformed, unmapped] = names as [string, string, string, string];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
    flow = await startBlobFlow();
  });
  after(async () => {
    await browser?.close();
    await flow?.stop();
  });

  it('scans on click and shows rows reaching succeeded and failed live, without a reload', async (t) => {
    const blobs = corpus().filter((b) => names.includes(b.name));
    assert.equal(blobs.length, names.length);
    await Promise.all(blobs.map((b) => flow.data.getBlockBlobClient(b.name).uploadData(b.body)));
    // Without the checker, ADX's reports wait in its status queues: rows stay `ingesting` until it is back,
    // so the page is seen between the two stages (otherwise the stand-ins settle everything in about a second).
    await flow.service('completion-checker').stop();

    const { page, errors, navigations } = await openPage(browser, flow.api.base.href);
    t.after(() => page.close());
    try {
      await page.locator('#live[data-state="live"]').waitFor();
      await page.getByText('No blobs match.').waitFor();
      await page.screenshot({ path: `${ARTIFACTS}before-scan.png`, fullPage: true });
      const loaded = navigations();

      await page.getByRole('button', { name: 'Scan now' }).click();
      await page.locator('#scan-progress').getByText('Scan completed').waitFor();
      assert.match(
        (await page.locator('#scan-progress').textContent()) ?? '',
        /4\s+listed[\s\S]*4\s+queued[\s\S]*0\s+unchanged[\s\S]*0\s+skipped/,
      );
      // adx-ingester posted three blobs to ADX and skipped the one no mapping covers.
      for (const name of [good, odd, malformed]) await rowIn(page, name, 'ingesting').waitFor();
      await rowIn(page, unmapped, 'skipped').waitFor();
      await chip(page, 'ingesting', 3).waitFor();
      await page.screenshot({ path: `${ARTIFACTS}during-ingestion.png`, fullPage: true });

      // completion-checker reads ADX's reports, saves each row and announces it on `ingestion-results`.
      await flow.start('completion-checker');
      await rowIn(page, good, 'succeeded').waitFor();
      await rowIn(page, odd, 'succeeded').waitFor();
      await rowIn(page, malformed, 'failed').waitFor();
      await chip(page, 'succeeded', 2).waitFor();
      await chip(page, 'failed', 1).waitFor();
      await chip(page, 'skipped', 1).waitFor();
      assert.match((await row(page, good).textContent()) ?? '', /TrafficFlows/);
      // The overview's ADX box counts the settled blobs from the status table (what production shows), and
      // in this local run also what the ADX stand-in holds.
      const adxBox = page.locator('#pipeline-lanes [data-sink="adx"]');
      await adxBox.and(page.locator('[data-total="2"]')).waitFor();
      await adxBox.getByText('2 blobs ingested').waitFor();
      await adxBox.locator('li[data-name="TrafficFlows"]').waitFor();
      await adxBox.getByText(/^stand-in holds \d+ rows$/).waitFor();
      await adxBox.screenshot({ path: `${ARTIFACTS}overview-adx-sink.png` });

      // The failed row tells why: ADX's error code, its permanence, the record at fault, and the trail.
      const failed = row(page, malformed);
      await failed.locator('summary').getByText('Stream_WrongNumberOfFields · Permanent').waitFor();
      await failed.locator('summary').click();
      await failed.locator('.error-text').getByText('record 2 has 7 fields; expected 9').waitFor();
      await failed.locator('.history li').filter({ hasText: 'failed' }).first().waitFor();
      await failed.locator('.history li').filter({ hasText: 'ingesting' }).first().waitFor();
      await row(page, unmapped).locator('summary').click();
      await row(page, unmapped).locator('.error-text').getByText('NoMapping: no entry in mappings.json').waitFor();
      await page.screenshot({ path: `${ARTIFACTS}settled.png`, fullPage: true });

      // The local run's sinks panel (GET /local/sinks): the ADX stand-in's rows, then Logs Ingestion records
      // arriving while the page is open.
      const sinks = page.locator('#sinks');
      await sinks.getByRole('heading', { name: 'Sinks (local stand-ins)' }).waitFor();
      const flows = flow.stack.adx.rows('TrafficFlows').length;
      assert.ok(flows > 0);
      await sinks.locator(`#sinks-adx-rows tr[data-name="TrafficFlows"][data-count="${flows}"]`).waitFor();
      await sinks.locator('#sinks-la-rows').getByText('No records yet.').waitFor();
      const { dcrStream } = flow.stack.endpoints;
      await postToLogsIngestion(flow, [{ event: 'a' }, { event: 'b' }, { event: 'c' }]);
      await sinks.locator(`#sinks-la-rows tr[data-name="${dcrStream}"][data-count="3"]`).waitFor();
      await page.locator('#sinks').screenshot({ path: `${ARTIFACTS}sinks.png` });

      await page.getByRole('button', { name: /^failed/i }).click();
      await page.locator('#blob-rows tr').first().and(page.locator('[data-status="failed"]')).waitFor();
      await page.getByText('1 blob shown').waitFor();
      assert.equal(await page.locator('#blob-rows tr').count(), 1);

      assert.equal(navigations(), loaded, 'the page was never reloaded');
      assert.deepEqual(errors, []);
    } catch (err) {
      await page.screenshot({ path: `${ARTIFACTS}pipeline-failure.png`, fullPage: true }).catch(() => undefined);
      throw new Error(`${(err as Error).message}\n${flow.logTails()}`, { cause: err });
    }
  });
});

describe('status page in headless Chromium, in-process server', () => {
  let azurite: AzuriteHandle;
  let browser: Browser;
  const apps: TestApp[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launch();
    azurite = await startAzurite();
  });
  after(async () => {
    await browser?.close();
    for (const app of apps) await app.close();
    await azurite?.stop();
  });

  it('shows a change whose result another replica consumed, with no event on its own replica', async () => {
    // Two replicas on one status table; the page is on A. B scans and B's subscription takes the result,
    // so A's event bus carries nothing at all (and A re-reads counts only every minute): only the page's
    // own re-reading of the rows it shows can bring the change.
    const a = await startTestApp(azurite, { auth: { localMode: true } });
    apps.push(a);
    const b = await startTestApp(azurite, { auth: { localMode: true }, fx: a.fx });
    apps.push(b);
    const heard: LiveEvent[] = [];
    const unsubscribe = a.events.subscribe((e) => heard.push(e));
    const ok = 'TrafficFlows replica #1.csv';
    const other = 'TrafficFlows-untouched.csv';
    await a.fx.upload(ok, 'src,dst,bytes\n10.0.0.1,10.0.0.2,512\n');
    await a.fx.upload(other, 'src,dst,bytes\n10.0.0.3,10.0.0.4,64\n');
    const scan = b.scanner.start({ trigger: 'manual' });
    assert.equal(scan.kind, 'started');
    assert.equal((await (scan.kind === 'started' ? scan.done : undefined))?.counts.queued, 2);

    const { page, errors, navigations } = await openPage(browser, a.url, 600);
    await page.locator('#live[data-state="live"]').waitFor();
    await rowIn(page, ok, 'queued').waitFor();
    await rowIn(page, other, 'queued').waitFor();
    await row(page, ok).locator('summary').click();
    await row(page, ok).locator('.history li').filter({ hasText: 'queued' }).waitFor();
    const loaded = navigations();
    const untouched = await row(page, other).elementHandle();

    // What adx-ingester and completion-checker write, and the result B's subscription consumed.
    const c = a.fx.container.containerName;
    const sourceId = '0b6f5a1e-3c2d-4e8f-9a7b-1c2d3e4f5a6b';
    await a.fx.store.markIngesting(c, ok, { sourceId, table: 'TrafficFlows', format: 'csv' });
    await a.fx.store.markSucceeded(c, ok, sourceId, 'ingested into TrafficFlows');
    await b.resultsHandler(resultDelivery(c, ok, sourceId));

    await rowIn(page, ok, 'succeeded').waitFor();
    // Its open details stayed open with the new trail; the row nothing happened to is the same element.
    await row(page, ok)
      .locator('details[open] .history li')
      .filter({ hasText: 'ingested into TrafficFlows' })
      .waitFor();
    assert.ok(await untouched?.evaluate((tr) => tr.isConnected && tr.getAttribute('data-status') === 'queued'));
    await page.screenshot({ path: `${ARTIFACTS}other-replica-change.png` });
    assert.ok(await page.locator('#sinks').isHidden(), 'no stand-ins configured: no sinks panel');
    unsubscribe();
    assert.deepEqual(
      heard.filter((e) => e.type === 'blob' || e.type === 'counts'),
      [],
      'replica A relayed nothing about the change: the page read it from the table',
    );
    assert.equal(navigations(), loaded, 'the page was never reloaded');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("keeps this page's scan on the card when a scheduled scan follows, and dashes attempts that cannot change", async () => {
    const app = await startTestApp(azurite, { auth: { localMode: true } });
    apps.push(app);
    await app.fx.upload('Json-card.json', '{"k":1}');
    await app.fx.upload('empty-card.csv', '');
    const { page, errors } = await openPage(browser, app.url, 800);
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByText('No scan has run on this server since it started.').waitFor();
    await page.getByRole('button', { name: 'Scan now' }).click();
    const card = page.locator('#scan-progress');
    await card.getByText('Scan completed').waitFor();
    await card.getByText(/started from this page/).waitFor();
    // A scheduled scan right after: it shows under the card, the card keeps the page's own result.
    const scheduled = app.scanner.start({ trigger: 'schedule' });
    assert.equal(scheduled.kind, 'started');
    await (scheduled.kind === 'started' ? scheduled.done : undefined);
    await page
      .locator('#scan-other')
      .getByText(/Also: a scheduled scan completed/)
      .waitFor();
    assert.match((await card.textContent()) ?? '', /started from this page/);
    // A skipped blob's attempts are a dash (no attempt can come); a queued one shows "1 / 3".
    await rowIn(page, 'empty-card.csv', 'skipped').locator('td.num').getByText('—').waitFor();
    await rowIn(page, 'Json-card.json', 'queued').locator('td.num').getByText('1 / 3').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}scan-card-own-scan.png` });
    // A page opened now starts with this replica's latest scan instead of "no scan".
    const second = await openPage(browser, app.url, 800);
    await second.page.locator('#scan-progress').getByText('Scan completed').waitFor();
    await second.page.close();
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('asks for a key when the API needs one, and works once it is given', async () => {
    const app = await startTestApp(azurite, { auth: { apiKey: KEY } });
    apps.push(app);
    await app.fx.upload('Json-keyed.json', '{"k":1}');
    const { page } = await openPage(browser, app.url, 700);
    await page.getByRole('alert').getByText('Access denied').waitFor();
    await page.getByLabel('API key or bearer token').fill(KEY);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByRole('button', { name: 'Scan now' }).click();
    await rowIn(page, 'Json-keyed.json', 'queued').waitFor();
    await page.screenshot({ path: `${ARTIFACTS}with-key.png` });
    await page.close();
  });
});

/** Records as la-uploader posts them to the local stack's Logs Ingestion stand-in (trusting its CA). */
async function postToLogsIngestion(flow: BlobFlow, records: object[]): Promise<void> {
  const { logsIngestionEndpoint, dcrImmutableId, dcrStream } = flow.stack.endpoints;
  const url = new URL(
    `/dataCollectionRules/${dcrImmutableId}/streams/${dcrStream}?api-version=2023-01-01`,
    logsIngestionEndpoint,
  );
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: flow.stack.logsIngestion.caCertPem,
        headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(records));
  });
  assert.equal(status, 204);
}

/** What completion-checker announces on `ingestion-results` after it saved the row. */
function resultDelivery(container: string, blobName: string, sourceId: string) {
  const body = IngestionResultMessage.parse({
    type: 'ingestion-result',
    schemaVersion: 1,
    id: `r-${sourceId}`,
    producer: 'completion-checker',
    time: new Date().toISOString(),
    container,
    blobName,
    sourceId,
    status: 'succeeded',
  });
  return { body, messageId: body.id, deliveryCount: 1, attempt: 1 } as Delivery<typeof body>;
}
