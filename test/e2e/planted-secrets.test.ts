// Secrets planted in every service's environment, and credentials an attacker sends, must not appear in
// anything a service prints. All six services run as processes on the local stack; both flows carry
// records, and the runs provoke errors (an unreachable telemetry endpoint, forged messages, bad requests)
// so error paths print too. Then every line each service wrote is searched for every secret value.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { waitUntil } from '@logferry/shared/testing/wait';
import type { Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import {
  type LocalStack,
  type ServiceProcess,
  STACK_SERVICES,
  type StackService,
  startLocalStack,
  startServiceProcess,
} from '@logferry/standins';

const token = (n = 24) => randomBytes(n).toString('base64url');
const PLANTED = {
  awsSecret: `plantedAwsSecret/${token()}`,
  serviceBusKey: `plantedSbKey${token()}=`,
  appInsightsKey: randomUUID(),
  statusApiKey: `planted-status-key-${token()}`,
  // What an attacker presents: never ours, but never to be echoed either.
  presentedBearer: `eyJhbGciOiJSUzI1NiJ9.${token(32)}.${token(32)}`,
  presentedApiKey: `presented-api-key-${token()}`,
};

describe('planted secrets (all six services as processes)', () => {
  let stack: LocalStack;
  let transport: Transport;
  const services: ServiceProcess[] = [];

  before(async () => {
    stack = await startLocalStack();
    const e = stack.endpoints;
    const sb = e.serviceBusConnectionString.replace(
      /SharedAccessKey=[^;]*/,
      `SharedAccessKey=${PLANTED.serviceBusKey}`,
    );
    const planted: Record<string, string> = {
      SERVICEBUS_CONNECTION_STRING: sb,
      // Unreachable on purpose: exporting fails, and that failure is logged.
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${PLANTED.appInsightsKey};IngestionEndpoint=http://127.0.0.1:9/`,
    };
    const perService: Partial<Record<StackService, Record<string, string>>> = {
      'sqs-poller': { AWS_SECRET_ACCESS_KEY: PLANTED.awsSecret },
      's3-fetcher': { AWS_SECRET_ACCESS_KEY: PLANTED.awsSecret },
      'blob-scanner': { STATUS_API_KEY: PLANTED.statusApiKey, SCAN_SCHEDULE: 'off' },
    };
    for (const name of STACK_SERVICES) {
      const env = { ...stack.serviceEnv(name), ...planted, ...(perService[name] ?? {}) };
      services.push(await startServiceProcess(name, env, { logDir: stack.logDir }));
    }
    await Promise.all(services.map((s) => s.waitForReady(90_000)));
    transport = createServiceBusTransport({
      connection: { connectionString: e.serviceBusConnectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 'cli',
    });
  });
  after(async () => {
    await transport?.close();
    await Promise.all(services.map((s) => s.stop('SIGTERM', 15_000)));
    await stack?.stop();
  });

  it('prints no planted or presented secret, in any service, on success and error paths alike', async () => {
    const e = stack.endpoints;
    // S3 → Log Analytics: one object through sqs-poller, s3-fetcher and la-uploader.
    const key = `code42/file-events/planted-${randomUUID()}.json`;
    const records = [1, 2, 3].map((i) => JSON.stringify({ '@timestamp': '2024-01-01T00:00:00Z', Seq: i }));
    const put = await stack.fauxqs
      .s3()
      .send(new PutObjectCommand({ Bucket: e.bucket, Key: key, Body: records.join('\n') }));
    await stack.fauxqs.sqs().send(
      new SendMessageCommand({
        QueueUrl: e.sqsQueueUrl,
        MessageBody: JSON.stringify({
          Records: [
            {
              eventVersion: '2.9',
              eventSource: 'aws:s3',
              eventTime: new Date().toISOString(),
              eventName: 'ObjectCreated:Put',
              s3: {
                bucket: { name: e.bucket },
                object: { key, size: 100, eTag: (put.ETag ?? '').replaceAll('"', '') },
              },
            },
          ],
        }),
      }),
    );
    // Blob → ADX: one blob scanned, ingested and reported.
    const blobs = BlobServiceClient.fromConnectionString(e.storageConnectionString);
    await blobs
      .getContainerClient(e.dataContainer)
      .getBlockBlobClient('AuthEvents-planted.json')
      .uploadData(Buffer.from('{"UserId":"u1","Result":"ok"}\n'));
    const page = e.statusPageUrl;
    const scan = await fetch(`${page}scans`, {
      method: 'POST',
      headers: {
        'X-Api-Key': PLANTED.statusApiKey,
        'Content-Type': 'application/json',
        Origin: page.replace(/\/$/, ''),
      },
      body: '{}',
    });
    assert.equal(scan.status, 202, await scan.clone().text());
    // Attackers' credentials, refused.
    for (const headers of [
      { Authorization: `Bearer ${PLANTED.presentedBearer}` },
      { 'X-Api-Key': PLANTED.presentedApiKey },
      { Authorization: `ApiKey ${PLANTED.presentedApiKey}` },
    ]) {
      const res = await fetch(`${page}counts`, { headers: { ...headers, Host: 'logferry.example' } });
      assert.equal(res.status, 401);
      assert.ok(!(await res.text()).includes(PLANTED.presentedApiKey));
    }
    // Forged messages: refused, and logged while refused.
    await transport.publish('ingest-requests', [
      {
        type: 'ingest-request',
        schemaVersion: 1,
        id: 'planted-forged',
        producer: 'cli',
        time: new Date().toISOString(),
        container: 'victim',
        blobName: `x?sig=${PLANTED.presentedApiKey}`,
        etag: '"0x1"',
        size: 10,
        attempt: 1,
      },
    ]);

    await waitUntil(
      'the planted records in Log Analytics',
      () => stack.logsIngestion.streams().some((s) => stack.logsIngestion.records(s).length >= records.length),
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        diagnostics: () =>
          services.map((p) => `--- ${p.name}\n${p.output().split('\n').slice(-5).join('\n')}`).join('\n'),
      },
    );
    await waitUntil(
      'the planted blob in ADX',
      () => stack.adx.ingestions().some((r) => r.blobName === 'AuthEvents-planted.json'),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    await waitUntil(
      'the forged request dead-lettered',
      () => stack.serviceBus.deadLetters('ingest-requests', 'adx-ingester').length > 0,
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    const adxIngester = services.find((s) => s.name === 'adx-ingester')!;
    await adxIngester.waitForLog(/ForbiddenReference|outside what this service may touch/, 10_000);

    // Every line each process wrote, shutdown included.
    await Promise.all(services.map((s) => s.stop('SIGTERM', 15_000)));
    const secrets = { ...PLANTED, azuriteAccountKey: /AccountKey=([^;]+)/.exec(e.storageConnectionString)?.[1] ?? '' };
    let bytes = 0;
    let all = '';
    for (const s of services) {
      const text = await readFile(s.logFile, 'utf8');
      bytes += text.length;
      all += text;
      assert.ok(text.length > 0, `${s.name} wrote nothing`);
      for (const [what, value] of Object.entries(secrets)) {
        assert.ok(value.length >= 8, what);
        assert.ok(!text.includes(value), `${s.name} printed the ${what}`);
      }
    }
    // The search can find things: what the services did is in their output.
    assert.ok(all.includes(key), 'the object key appears in the output');
    assert.ok(all.includes('AuthEvents-planted.json'), 'the blob name appears in the output');
    console.log(
      `searched ${bytes} bytes of output from ${services.length} services for ${Object.keys(secrets).length} secrets`,
    );
  });
});
