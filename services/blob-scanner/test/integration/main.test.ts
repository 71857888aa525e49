import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { type AzuriteHandle, startAzurite, waitUntil } from '@logferry/shared/testing';
import type { Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { readEvents } from '../support/app.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
const KEY = 'main-test-key-0123456789abcdef';
const CONTAINER = 'data';
const TABLE = 'scannermain';

describe('blob-scanner as a process', () => {
  let azurite: AzuriteHandle;
  let bus: ServiceBusStandIn;
  let transport: Transport;
  let child: ChildProcess | undefined;
  let url = '';

  before(async () => {
    [azurite, bus] = await Promise.all([
      startAzurite(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 'completion-checker',
    });
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(CONTAINER);
    await container.create();
    for (const name of ['TrafficFlows-1.csv', 'Json-a b+c#d.json', 'empty.csv']) {
      const body = name === 'empty.csv' ? '' : 'x,y\n1,2\n';
      await container.getBlockBlobClient(name).upload(body, body.length);
    }
    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        LOG_LEVEL: 'info',
        SERVICEBUS_CONNECTION_STRING: bus.connectionString,
        AzureStorage: azurite.connectionString,
        STATUS_TABLE: TABLE,
        DATA_CONTAINER: CONTAINER,
        HTTP_HOST: '127.0.0.1',
        HTTP_PORT: '0',
        HEALTH_PORT: '0',
        STATUS_API_KEY: KEY,
        SCAN_SCHEDULE: 'off',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = createInterface({ input: child.stdout! });
    let output = '';
    child.stderr!.on('data', (c: Buffer) => {
      output += c.toString();
    });
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 20 s:\n${output}`)), 20_000);
      lines.on('line', (line) => {
        output += `${line}\n`;
        if (!line.includes('status page and API listening')) return;
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`);
      });
      child!.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await transport?.close();
    await Promise.all([bus?.close(), azurite?.stop()]);
  });

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, headers: { 'X-Api-Key': KEY, ...(init.headers ?? {}) } });

  it('scans on request, publishes ingest-requests, relays ingestion-results live, and stops cleanly', async () => {
    assert.equal((await fetch(`${url}/counts`)).status, 401);
    await waitUntil('blob-scanner to be ready', async () => (await fetch(`${url}/readyz`)).status === 200);
    const started = await api('/scans', { method: 'POST' });
    assert.equal(started.status, 202);
    const { scanId } = (await started.json()) as { scanId: string };
    const scan = await waitUntil('the scan to finish', async () => {
      const body = (await (await api(`/scans/${scanId}`)).json()) as { state: string; counts: object };
      return body.state !== 'running' && body;
    });
    assert.deepEqual(scan, {
      ...scan,
      state: 'completed',
      counts: { listed: 3, queued: 2, unchanged: 0, skipped: 1, lostRace: 0, failed: 0 },
    });
    await bus.waitFor(() => bus.counts('ingest-requests', 'adx-ingester').active === 2);

    // The completion checker (another process) finishes a blob and announces it on ingestion-results.
    const store = new BlobStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, TABLE, { allowInsecureConnection: true }),
    );
    const name = 'Json-a b+c#d.json';
    const sourceId = '6f1c2d4e-8a9b-4c0d-9e1f-2a3b4c5d6e7f';
    await store.markIngesting(CONTAINER, name, { sourceId, table: 'JsonEvents', format: 'json' });
    await store.markSucceeded(CONTAINER, name, sourceId);
    const stream = await api('/events');
    let published = false;
    await readEvents(stream, (seen) => {
      // Once the stream is ready (the greeting, the finished scan, may come in the same chunk).
      if (!published && seen.some((e) => e.type === 'ready')) {
        published = true;
        void transport.publish('ingestion-results', [
          {
            type: 'ingestion-result',
            schemaVersion: 1,
            id: `result-${sourceId}`,
            producer: 'completion-checker',
            time: new Date().toISOString(),
            container: CONTAINER,
            blobName: name,
            sourceId,
            status: 'succeeded',
            table: 'JsonEvents',
          },
        ]);
      }
      return seen.some((e) => e.type === 'blob' && (e.data as { status: string }).status === 'succeeded');
    });
    const row = (await (await api(`/blobs/${encodeURIComponent(name)}`)).json()) as { status: string };
    assert.equal(row.status, 'succeeded');

    const exited = once(child!, 'exit');
    child!.kill('SIGTERM');
    const [code] = await exited;
    assert.equal(code, 0);
  });
});
