// GET /local/sinks against the real Logs Ingestion stand-in (HTTPS, its own CA) and ADX stand-in (on Azurite),
// started in-process: what the local run's page shows under "Sinks (local stand-ins)".
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { getCACertificates, setDefaultCACertificates } from 'node:tls';
import { BlobSASPermissions, BlobServiceClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import {
  type AdxStandIn,
  freePort,
  type LogsIngestionStandIn,
  startAdxStandIn,
  startLogsIngestionStandIn,
} from '@logferry/standins';
import { createLocalSinks, type LocalSinks, type SinksSnapshot } from '../../src/http/local-sinks.ts';
import { readEvents, startTestApp, type TestApp } from '../support/app.ts';
import { silentLogger } from '../support/fixtures.ts';

const KEY = 'local-sinks-key-0123456789abcdef';
const STREAM = 'Custom-Code42FileEvents_CL';
const FLOWS_CSV =
  'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n' +
  '2024-05-01T10:00:00Z,10.0.0.5,192.0.2.10,51514,443,TCP,1840,12,Allow\n' +
  '2024-05-01T10:00:01Z,10.0.0.6,198.51.100.7,53001,53,UDP,92,1,Deny\n';

describe('GET /local/sinks with the stand-ins in-process', () => {
  let azurite: AzuriteHandle;
  let li: LogsIngestionStandIn;
  let adx: AdxStandIn;
  const apps: TestApp[] = [];
  const servers: Server[] = [];

  before(async () => {
    [azurite, li] = await Promise.all([startAzurite(), startLogsIngestionStandIn()]);
    adx = await startAdxStandIn({ storageConnectionString: azurite.connectionString, pollIntervalMs: 50 });
  });
  after(async () => {
    for (const app of apps) await app.close();
    for (const server of servers) server.close();
    await Promise.all([li?.close(), adx?.close()]);
    await azurite?.stop();
  });

  async function app(options: { localSinks?: LocalSinks; auth?: 'key' | 'local' } = {}): Promise<TestApp> {
    const started = await startTestApp(azurite, {
      auth: options.auth === 'local' ? { localMode: true } : { apiKey: KEY },
      ...(options.localSinks ? { localSinks: options.localSinks } : {}),
    });
    apps.push(started);
    return started;
  }

  const sinks = (logsIngestionUrl?: string, adxUrl?: string, timeoutMs?: number) =>
    createLocalSinks({
      logsIngestionUrl,
      adxUrl,
      logger: silentLogger,
      ...(timeoutMs ? { timeoutMs } : {}),
    });

  async function getSinks(a: TestApp, headers: Record<string, string> = { 'X-Api-Key': KEY }) {
    const res = await fetch(`${a.url}/local/sinks`, { headers });
    // Every answer of this route is JSON: the snapshot, or `{ error }`.
    return { res, body: (await res.json()) as SinksSnapshot & { error?: string } };
  }

  it('answers 404 when no stand-in is configured, behind the same credentials as every API route', async () => {
    assert.equal(sinks(), undefined, 'no URL: no sinks at all');
    const plain = await app();
    assert.equal((await getSinks(plain, {})).res.status, 401);
    const missing = await getSinks(plain);
    assert.equal(missing.res.status, 404);
    assert.match(missing.body.error ?? '', /no local stand-ins configured/);

    const configured = await app({ localSinks: sinks(undefined, adx.endpoint) });
    const denied = await getSinks(configured, {});
    assert.equal(denied.res.status, 401);
    assert.match(denied.res.headers.get('www-authenticate') ?? '', /ApiKey realm="logferry"/);
    assert.equal((await getSinks(configured, { 'X-Api-Key': 'wrong' })).res.status, 401);
    const post = await fetch(`${configured.url}/local/sinks`, { method: 'POST', headers: { 'X-Api-Key': KEY } });
    assert.equal(post.status, 405);
    const ok = await getSinks(configured);
    assert.equal(ok.res.status, 200);
    assert.equal(ok.res.headers.get('cache-control'), 'no-store');
    assert.match(ok.res.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.equal(ok.body.logAnalytics, null, 'Logs Ingestion not configured');
    assert.equal(ok.body.errors, undefined);

    // The page asks only when the event stream's `ready` says there is something to show.
    for (const [a, localSinks] of [
      [plain, false],
      [configured, true],
    ] as const) {
      const events = await readEvents(await fetch(`${a.url}/events`, { headers: { 'X-Api-Key': KEY } }), (seen) =>
        seen.some((e) => e.type === 'ready'),
      );
      assert.deepEqual(events.find((e) => e.type === 'ready')?.data, { localSinks, pipeline: false, objects: false });
    }
  });

  it('shows an untrusted certificate, a refused connection and a silent stand-in as unavailable', async () => {
    // The test process does not trust the stand-in's CA yet (a service without NODE_EXTRA_CA_CERTS).
    const closed = await freePort();
    const a = await app({ localSinks: sinks(li.endpoint, `http://127.0.0.1:${closed}`) });
    const { res, body } = await getSinks(a);
    assert.equal(res.status, 200, 'the page still gets an answer');
    assert.deepEqual([body.logAnalytics, body.adx], [null, null]);
    assert.match(body.errors?.logAnalytics ?? '', /^Logs Ingestion stand-in could not be reached \(.*CERT.*\)$/);
    assert.match(body.errors?.adx ?? '', /^ADX stand-in could not be reached \(ECONNREFUSED\)$/);

    // Accepts the connection and never answers.
    const silent = createServer(() => undefined);
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    const slow = await app({ localSinks: sinks(undefined, `http://127.0.0.1:${port}`, 300), auth: 'local' });
    const started = Date.now();
    const timedOut = await getSinks(slow, {});
    assert.equal(timedOut.res.status, 200);
    assert.equal(timedOut.body.adx, null);
    assert.equal(timedOut.body.errors?.adx, 'ADX stand-in did not answer within 300 ms');
    assert.ok(Date.now() - started < 5_000);
  });

  it('returns records per stream and rows per table as the stand-ins hold them, and follows them', async () => {
    // What NODE_EXTRA_CA_CERTS does for blob-scanner in the local run (standins/src/stack/service-env.ts).
    setDefaultCACertificates([...getCACertificates('default'), li.caCertPem]);
    const a = await app({ localSinks: sinks(li.endpoint, adx.endpoint), auth: 'local' });

    const empty = await getSinks(a, {});
    assert.equal(empty.res.status, 200);
    assert.deepEqual(empty.body.logAnalytics, []);
    assert.ok((empty.body.adx ?? []).length > 0, 'the tables of deploy/adx are listed');
    assert.ok(
      empty.body.adx?.every((t) => t.rows === 0),
      'nothing ingested yet',
    );

    await postRecords(li, STREAM, [{ a: 1 }, { a: 2 }, { a: 3 }]);
    await postRecords(li, 'Custom-Other_CL', [{ b: 1 }]);
    await ingestCsv(azurite, adx, 'TrafficFlows', FLOWS_CSV);

    const { body } = await getSinks(a, {});
    assert.deepEqual(body.logAnalytics, [
      { stream: 'Custom-Code42FileEvents_CL', records: 3 },
      { stream: 'Custom-Other_CL', records: 1 },
    ]);
    const expected = Object.entries(adx.tables())
      .map(([table, rows]) => ({ table, rows: rows.length }))
      .sort((x, y) => (x.table < y.table ? -1 : 1));
    assert.deepEqual(body.adx, expected);
    assert.deepEqual(
      body.adx?.find((t) => t.table === 'TrafficFlows'),
      { table: 'TrafficFlows', rows: 2 },
    );
    assert.equal(body.errors, undefined);

    await postRecords(li, STREAM, [{ a: 4 }]);
    const later = (await getSinks(a, {})).body;
    assert.equal(later.logAnalytics?.[0]?.records, 4, 'every request reads the stand-ins again');
  });
});

/** A request as la-uploader sends it (any bearer token), trusting the stand-in's CA for this request only. */
async function postRecords(li: LogsIngestionStandIn, stream: string, records: object[]): Promise<void> {
  const url = new URL(`/dataCollectionRules/dcr-test/streams/${stream}?api-version=2023-01-01`, li.endpoint);
  const status = await new Promise<number | undefined>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: li.caCertPem,
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

/** Queues a CSV blob for the ADX stand-in's worker as azure-kusto-ingest would, and waits for its rows. */
async function ingestCsv(azurite: AzuriteHandle, adx: AdxStandIn, table: string, csv: string): Promise<void> {
  const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('sinks-src');
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient(`${table}-${randomUUID()}.csv`);
  await blob.upload(csv, Buffer.byteLength(csv));
  const blobPath = await blob.generateSasUrl({
    permissions: BlobSASPermissions.parse('r'),
    expiresOn: new Date(Date.now() + 3_600_000),
  });
  const id = randomUUID();
  const message = {
    Id: id,
    BlobPath: blobPath,
    RawDataSize: Buffer.byteLength(csv),
    DatabaseName: 'SecurityLogs',
    TableName: table,
    ReportLevel: 1, // DoNotReport
    AdditionalProperties: { format: 'csv', ingestionMappingReference: `${table}_csv_mapping`, ignoreFirstRecord: true },
  };
  await new QueueClient(adx.resources.ingestionQueue).sendMessage(
    Buffer.from(JSON.stringify(message)).toString('base64'),
  );
  const record = await adx.waitForIngestion((r) => r.sourceId === id);
  assert.equal(record.outcome, 'succeeded', JSON.stringify(record));
}
