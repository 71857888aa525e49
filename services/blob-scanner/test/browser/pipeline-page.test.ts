// The pipeline overview, the dead letters and the S3 objects views in Debian's Chromium (playwright-core), on
// the running S3 → Log Analytics flow: the local stack's stand-ins with sqs-poller, s3-fetcher, la-uploader and
// blob-scanner as separate processes. blob-scanner needs a key here (it listens beyond loopback), so the
// page is used as an operator without local mode's anonymous access would use it.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { waitUntil } from '@logferry/shared/testing/wait';
import { freePort, type ServiceProcess, startServiceProcess } from '@logferry/standins';
import type { Browser, Page } from 'playwright-core';
import { directNotification, s3Record } from '../../../../test/src/s3-corpus.ts';
import { type Flow, startFlow } from '../../../../test/src/s3-flow.ts';
import { ARTIFACTS, launchChromium, WAIT_MS } from './chromium.ts';

const KEY = 'pipeline-browser-key-0123456789abcdef';

describe('pipeline page in headless Chromium, on the running S3 flow', { timeout: 240_000 }, () => {
  let flow: Flow;
  let scanner: ServiceProcess;
  let browser: Browser;
  let pageUrl: string;
  const goodKey = 'incydr/2024/01/15/page/events-good.ndjson';
  const poisonKey = 'incydr/2024/01/15/page/events-truncated.json.gz';

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
    flow = await startFlow({ lockDuration: 'PT5S' });
    const port = await freePort();
    // Listening beyond loopback turns local mode's anonymous access off: the page needs the key.
    scanner = await startServiceProcess(
      'blob-scanner',
      flow.stack.serviceEnv('blob-scanner', {
        HTTP_HOST: '0.0.0.0',
        HTTP_PORT: String(port),
        STATUS_API_KEY: KEY,
        SCAN_SCHEDULE: 'off',
        PIPELINE_SAMPLE_MS: '1000',
        // As in production: no stand-in to ask, so the sink box's figures come from the status table alone.
        LOCAL_SINKS_LOGS_INGESTION_URL: '',
        LOCAL_SINKS_ADX_URL: '',
      }),
      { logDir: flow.stack.logDir },
    );
    await scanner.waitForReady(30_000);
    pageUrl = `http://127.0.0.1:${port}/`;
  });
  after(async () => {
    await browser?.close();
    await scanner?.stop('SIGTERM', 10_000).catch(() => undefined);
    await flow?.stop();
  });

  async function signIn(page: Page) {
    await page.getByRole('alert').getByText('Access denied').waitFor();
    await page.getByLabel('API key or bearer token').fill(KEY);
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#live[data-state="live"]').waitFor();
  }

  async function announce(key: string, body: Buffer) {
    const { bucket } = flow.stack.endpoints;
    const put = await flow.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    const etag = (put.ETag ?? '').replaceAll('"', '');
    await flow.sqs.send(
      new SendMessageCommand({
        QueueUrl: flow.stack.endpoints.sqsQueueUrl,
        MessageBody: directNotification([s3Record(bucket, key, etag)]),
      }),
    );
  }

  it('shows a poison object dead-lettered, refuses an anonymous replay and replays for the operator', async (t) => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(WAIT_MS);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    t.after(() => page.close());
    const stage = page.locator('#pipeline-lanes [data-subscription="s3-objects/s3-fetcher"]');
    try {
      await page.goto(pageUrl);
      await signIn(page);
      await page.getByRole('heading', { name: 'logferry pipeline' }).waitFor();
      // Every service's readiness, from its own /readyz.
      for (const s of ['sqs-poller', 's3-fetcher', 'la-uploader', 'blob-scanner']) {
        await page.locator(`[data-service="${s}"][data-ready="true"]`).first().waitFor();
      }
      await stage.and(page.locator('[data-dead-letter="0"]')).waitFor();

      // A good object (with one unreadable line) and a truncated gzip.
      const good = [1, 2, 3].map((i) => JSON.stringify({ id: i, eventTimestamp: '2024-01-15T12:00:00Z' }));
      good.splice(1, 0, '{"broken": ');
      await announce(goodKey, Buffer.from(`${good.join('\n')}\n`));
      const gz = gzipSync(Buffer.from(good.join('\n')));
      await announce(poisonKey, gz.subarray(0, Math.floor(gz.length / 2)));

      // The overview shows the dead letter appear on s3-fetcher's subscription, and the sink's records.
      await stage.and(page.locator('[data-dead-letter="1"]')).waitFor();
      const laBox = page.locator('#pipeline-lanes [data-sink="logAnalytics"]');
      await laBox.and(page.locator('[data-total="3"][data-local-total=""]')).waitFor();
      await laBox.getByText('3 records uploaded').waitFor();
      await laBox.locator(`li[data-name="${flow.stack.endpoints.dcrStream}"]`).getByText(/: 3$/).waitFor();
      await laBox.screenshot({ path: `${ARTIFACTS}overview-la-sink.png` });
      await page.locator('#overview').screenshot({ path: `${ARTIFACTS}pipeline-overview-dead-letter.png` });

      // The S3 objects view: the poison object dead-lettered with its reason; the good one uploaded.
      const objects = page.locator('#object-rows');
      const poisonRow = objects.locator('tr[data-status="dead-lettered"]').filter({ hasText: poisonKey });
      await poisonRow.waitFor();
      const goodRow = objects.locator('tr[data-status="uploaded"]').filter({ hasText: goodKey });
      await goodRow.waitFor();
      assert.match((await goodRow.textContent()) ?? '', /3 \(1 bad\)/);
      await goodRow.locator('summary').click();
      await goodRow.locator('.samples').getByText('InvalidJson').waitFor();
      await poisonRow.locator('summary').click();
      const reason = (await poisonRow.locator('summary').textContent()) ?? '';
      assert.match(reason, /gzip|Corrupt|Truncated/i);
      await poisonRow.locator('.error-text').waitFor();
      await page.locator('#objects').screenshot({ path: `${ARTIFACTS}s3-objects-dead-lettered.png` });

      // Throughput as the stores tell it: two objects finished by s3-fetcher (one staged, one dead-lettered),
      // one batch uploaded by la-uploader, over the samples the charts keep.
      const chartTitle = (ref: string) => page.locator(`#pipeline-lanes [data-subscription="${ref}"] svg.chart title`);
      await chartTitle('s3-objects/s3-fetcher')
        .getByText(/^2 objects fetched over the last/)
        .waitFor({ state: 'attached' });
      await chartTitle('staged-batches/la-uploader')
        .getByText(/^1 batches uploaded over the last/)
        .waitFor({ state: 'attached' });

      // Its link opens the dead letter, with the same reason.
      await poisonRow.getByRole('button', { name: 'Show its dead letter' }).click();
      const item = page.locator('#dl-list .dl-item.highlight');
      await item.waitFor();
      assert.equal((await item.locator('.dl-reason').textContent())?.trim(), reason.trim());

      // s3-fetcher stops, so a replayed copy waits in the subscription where the overview can count it.
      await flow.services['s3-fetcher'].stop('SIGTERM', 10_000);
      await page.locator('[data-service="s3-fetcher"][data-ready="false"]').waitFor();

      // Without credentials the replay is refused, and the dead letter stays.
      await page.locator('#access summary').click();
      await page.getByRole('button', { name: 'Sign out' }).click();
      await item.getByRole('button', { name: 'Replay' }).click();
      await page.locator('#dl-status.refused').getByText('Refused (HTTP 401)').waitFor();
      assert.equal(flow.stack.serviceBus.counts('s3-objects', 's3-fetcher').deadLetter, 1);
      await page.locator('#dead-letters').screenshot({ path: `${ARTIFACTS}dead-letter-replay-refused.png` });

      // Signed in again, the operator's replay moves it back to s3-fetcher's subscription only.
      await page.getByLabel('API key or bearer token').fill(KEY);
      await page.getByRole('button', { name: 'Save' }).click();
      await page.locator('#dl-list .dl-item').first().getByRole('button', { name: 'Replay' }).click();
      await page.locator('#dl-status').getByText('Replayed 1 message to s3-objects/s3-fetcher.').waitFor();
      await stage.and(page.locator('[data-dead-letter="0"][data-active="1"]')).waitFor();
      await page.getByText('No dead letters in s3-objects/s3-fetcher.').waitFor();
      const counts = flow.stack.serviceBus.counts('s3-objects', 's3-fetcher');
      assert.equal(counts.deadLetter, 0);
      assert.equal(counts.active, 1);
      assert.equal(flow.stack.serviceBus.counts('staged-batches', 'la-uploader').deadLetter, 0);
      // The broker saw one replayed copy sent back to s3-objects, for s3-fetcher's subscription alone (a
      // retry-later copy would carry its last error; a replay starts over without one).
      const replayed = flow.stack.serviceBus.records
        .published('s3-objects')
        .filter((p) => p.retryFor !== undefined && p.retryError === undefined);
      assert.deepEqual(
        replayed.map((p) => p.retryFor),
        ['s3-fetcher'],
      );
      await page.screenshot({ path: `${ARTIFACTS}pipeline-after-replay.png`, fullPage: true });

      // The replay is audited with who asked for it (never the key).
      await waitUntil("the replay's audit line", () => /"audit":"dead-letter-replay"/.test(scanner.output()), {
        timeoutMs: 5_000,
        intervalMs: 100,
      });
      const audit = scanner
        .output()
        .split('\n')
        .filter((l) => l.includes('"audit":"dead-letter-replay"'));
      assert.equal(audit.length, 1, 'the refused attempt never reached the replay');
      assert.match(audit[0] ?? '', /"principal":\{"kind":"api-key"\}.*"replayed":1/);
      assert.ok(!scanner.output().includes(KEY), 'the key is in no log line');

      // On a phone's width nothing forces the page wider than the screen, and the tables become cards.
      await page.setViewportSize({ width: 420, height: 900 });
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 420, `page is ${width}px wide at 420px`);
      await page.screenshot({ path: `${ARTIFACTS}pipeline-phone.png`, fullPage: true });
      for (const view of ['overview', 'dead-letters', 'objects', 'blobs']) {
        await page.locator(`#${view}`).screenshot({ path: `${ARTIFACTS}phone-${view}.png` });
      }
      // Keyboard: the view links are reachable with Tab and move the focus to their view.
      await page.locator('.views a[href="#objects"]').focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(/#objects$/);
      assert.deepEqual(errors, []);
    } catch (err) {
      await page.screenshot({ path: `${ARTIFACTS}pipeline-page-failure.png`, fullPage: true }).catch(() => undefined);
      throw new Error(
        `${(err as Error).message}\n--- blob-scanner\n${scanner.output().split('\n').slice(-15).join('\n')}`,
        {
          cause: err,
        },
      );
    }
  });
});
