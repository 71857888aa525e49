// A dependency's error text is hostile too: ADX's failure `Details` can quote the SAS URL it was given (and
// a misconfigured cluster, its connection string). The Blob → ADX flow, each service its own process, must
// keep such a secret out of the status table, the API, the live feed the page reads, and ingestion-results.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { waitUntil } from '@logferry/shared/testing/wait';
import { type BlobFlow, startBlobFlow } from '../src/blob-stack.ts';

const SIG = 'c2VjcmV0LXNhcy1zaWduYXR1cmUtMTIzNDU2Nzg5MA%3D%3D';
const APP_KEY = 'kQ8~plantedApplicationKey.0123456789abcdef';
const NAME = 'AuthEvents-sas-leak.json';
const SAS_URL = `https://prodlogs.blob.core.windows.net/data/${NAME}?sv=2022-11-02&sr=b&sp=r&se=2030-01-01&sig=${SIG}`;
const DETAILS =
  `Failed to download blob: ${SAS_URL} (via https://proxy.example/fetch?u=${encodeURIComponent(SAS_URL)}); ` +
  `cluster: Data Source=https://c.kusto.windows.net;Application Client Id=app;Application Key=${APP_KEY};Authority Id=t ` +
  'x'.repeat(20_000);
const SECRETS = [SIG, encodeURIComponent(SIG), APP_KEY];

describe('secrets in dependency errors (services as processes)', () => {
  let flow: BlobFlow;
  before(async () => {
    flow = await startBlobFlow();
  });
  after(async () => {
    await flow?.stop();
  });

  it("keeps a SAS URL in ADX's failure details out of the table, the API, the live feed and ingestion-results", async () => {
    flow.stack.adx.setFaults({
      permanent: { match: /sas-leak/, errorCode: 'BadRequest_InvalidBlob', details: DETAILS },
    });
    const events = await fetch(`${flow.stack.endpoints.statusPageUrl}events`);
    assert.equal(events.status, 200);
    const feed = events.body!.pipeThrough(new TextDecoderStream()).getReader();
    let live = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await feed.read();
        if (done) return;
        live += value;
      }
    })();

    await flow.data.getBlockBlobClient(NAME).uploadData(Buffer.from('{"UserId":"u1","Result":"ok"}\n'));
    await flow.api.waitForScan((await flow.api.postScan()).scanId);
    const rows = await flow.api.waitForBlobs([NAME], { diagnostics: () => flow.logTails() });
    const reported = flow.stack.adx.ingestions().find((r) => r.blobName === NAME);
    assert.equal(reported?.outcome, 'failed', 'the stand-in reported the failure with the secret in its details');
    assert.ok(reported?.details?.includes(SIG));

    const row = rows.get(NAME);
    assert.equal(row?.status, 'failed');
    assert.equal(row?.errorCode, 'BadRequest_InvalidBlob');
    // The reason is still useful: what failed and where, with the signature cut out.
    assert.match(row?.lastError ?? '', /Failed to download blob: https:\/\/prodlogs\.blob\.core\.windows\.net\/data\//);
    assert.ok((row?.lastError?.length ?? 0) <= 4000, `lastError is ${row?.lastError?.length} characters`);

    const served = JSON.stringify([row, await flow.api.getBlob(NAME), [...(await flow.api.listBlobs()).values()]]);
    const table = TableClient.fromConnectionString(
      flow.stack.endpoints.storageConnectionString,
      flow.stack.endpoints.statusTable,
      {
        allowInsecureConnection: true,
      },
    );
    const stored: unknown[] = [];
    for await (const e of table.listEntities()) stored.push(e);
    // completion-checker settles the row before it publishes the result: the row can be seen first.
    const publishedText = () => JSON.stringify(flow.audit.published('ingestion-results'));
    await waitUntil('the result on ingestion-results', () => publishedText().includes('sas-leak'), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const published = publishedText();
    assert.match(published, /sas-leak/, 'the result was published');
    // The live feed the page renders from: give it a moment to carry the failure.
    try {
      await waitUntil('the live feed to carry the row', () => live.includes('sas-leak'), {
        timeoutMs: 10_000,
        intervalMs: 100,
      });
    } finally {
      await feed.cancel();
      await reading.catch(() => undefined);
    }
    assert.match(live, /sas-leak/, 'the live feed carried the row');

    for (const [where, text] of [
      ['status table', JSON.stringify(stored)],
      ['API', served],
      ['live feed (/events)', live],
      ['ingestion-results', published],
      ...['blob-scanner', 'adx-ingester', 'completion-checker'].map((n) => [
        `${n} output`,
        flow.service(n as 'blob-scanner').output(),
      ]),
    ] as const) {
      for (const secret of SECRETS) assert.ok(!text.includes(secret), `${where} holds ${secret.slice(0, 12)}…`);
    }
  });
});
