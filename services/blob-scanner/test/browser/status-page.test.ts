import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IngestionResultMessage } from '@logferry/shared/messages/index';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import type { Delivery } from '@logferry/shared/transport/port';
import { type Browser, chromium, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../../../../test-artifacts/blob-scanner/', import.meta.url));
const KEY = 'browser-test-key-0123456789abcdef';
const BLOBS: Record<string, string> = {
  'TrafficFlows-2024-05-01.csv': 'src,dst,bytes\n10.0.0.1,10.0.0.2,512\n',
  'TrafficFlows-2024-05-02 copy.csv': 'src,dst,bytes\nbroken"row\n',
  'Json-events+1#a.json': '{"a":1}\n',
  'Unmapped-report.txt': 'hello\n',
  'empty.csv': '',
};

function launch(): Promise<Browser> {
  // CI installs Debian's chromium; a missing browser is a broken environment, not a reason to skip.
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install -y chromium\``);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** What the completion checker announces on `ingestion-results` after it saved the row. */
function result(app: TestApp, blobName: string, sourceId: string, status: 'succeeded' | 'failed') {
  const body = IngestionResultMessage.parse({
    type: 'ingestion-result',
    schemaVersion: 1,
    id: `r-${sourceId}`,
    producer: 'completion-checker',
    time: new Date().toISOString(),
    container: app.fx.container.containerName,
    blobName,
    sourceId,
    status,
  });
  return app.resultsHandler({ body, messageId: body.id, deliveryCount: 1, attempt: 1 } as Delivery<typeof body>);
}

const row = (page: Page, name: string) => page.locator(`#blob-rows tr[data-name="${name.replace(/"/g, '\\"')}"]`);

describe('status page in headless Chromium', () => {
  let azurite: AzuriteHandle;
  let browser: Browser;
  const apps: TestApp[] = [];

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    [azurite, browser] = await Promise.all([startAzurite(), launch()]);
  });
  after(async () => {
    await browser?.close();
    for (const app of apps) await app.close();
    await azurite?.stop();
  });

  it('scans on click and shows rows reaching succeeded and failed live', async () => {
    const app = await startTestApp(azurite, { auth: { localMode: true }, countsMs: 1_000 });
    apps.push(app);
    for (const [name, body] of Object.entries(BLOBS)) await app.fx.upload(name, body);
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(app.url);
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByText('No blobs match.').waitFor();

    await page.getByRole('button', { name: 'Scan now' }).click();
    await page.locator('#scan-progress').getByText('Scan completed').waitFor();
    await page.locator('#blob-rows tr[data-status="queued"]').nth(3).waitFor();
    assert.equal(await page.locator('#blob-rows tr[data-status="queued"]').count(), 4);
    assert.equal(await row(page, 'empty.csv').getAttribute('data-status'), 'skipped');
    assert.match(
      (await page.locator('#scan-progress').textContent()) ?? '',
      /5\s+listed[\s\S]*4\s+queued[\s\S]*1\s+skipped/,
    );
    await page.screenshot({ path: `${ARTIFACTS}after-scan.png`, fullPage: true });

    // The ingester and completion checker (other processes) move rows; the page follows without reloading.
    const c = app.fx.container.containerName;
    const ok = 'TrafficFlows-2024-05-01.csv';
    const bad = 'TrafficFlows-2024-05-02 copy.csv';
    const okId = '0b6f5a1e-3c2d-4e8f-9a7b-1c2d3e4f5a6b';
    const badId = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
    await app.fx.store.markIngesting(c, ok, { sourceId: okId, table: 'TrafficFlows', format: 'csv' });
    await app.fx.store.markIngesting(c, bad, { sourceId: badId, table: 'TrafficFlows', format: 'csv' });
    await app.fx.store.markSucceeded(c, ok, okId);
    await app.fx.store.markFailed(
      c,
      bad,
      {
        reason: 'Stream_InputStreamTooLarge: mapping mismatch on line 2 (unterminated quote)',
        errorCode: 'BadRequest_MappingMismatch',
        failureStatus: 'Permanent',
        retryable: false,
      },
      { sourceId: badId },
    );
    await result(app, ok, okId, 'succeeded');
    await result(app, bad, badId, 'failed');
    await row(page, ok).and(page.locator('[data-status="succeeded"]')).waitFor();
    await row(page, bad).and(page.locator('[data-status="failed"]')).waitFor();
    assert.match((await row(page, ok).textContent()) ?? '', /TrafficFlows/);
    await page.locator('.chip-succeeded .chip-value').getByText('1', { exact: true }).waitFor();
    await page.locator('.chip-failed .chip-value').getByText('1', { exact: true }).waitFor();

    await row(page, bad).locator('summary').click();
    await row(page, bad).locator('.error-text').getByText('mapping mismatch on line 2').waitFor();
    await row(page, bad).locator('.history li').filter({ hasText: 'failed' }).first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}live-statuses.png`, fullPage: true });

    await page.getByRole('button', { name: /failed/i }).click();
    await page.locator('#blob-rows tr').first().and(page.locator('[data-status="failed"]')).waitFor();
    assert.equal(await page.locator('#blob-rows tr').count(), 1);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('asks for a key when the API needs one, and works once it is given', async () => {
    const app = await startTestApp(azurite, { auth: { apiKey: KEY } });
    apps.push(app);
    await app.fx.upload('Json-keyed.json', '{"k":1}');
    const page = await browser.newPage({ viewport: { width: 1280, height: 700 } });
    await page.goto(app.url);
    await page.getByRole('alert').getByText('Access denied').waitFor();
    await page.getByLabel('API key or bearer token').fill(KEY);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
    await page.getByRole('button', { name: 'Scan now' }).click();
    await row(page, 'Json-keyed.json').and(page.locator('[data-status="queued"]')).waitFor();
    await page.screenshot({ path: `${ARTIFACTS}with-key.png` });
    await page.close();
  });
});
