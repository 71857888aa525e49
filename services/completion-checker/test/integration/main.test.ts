import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { createLogger } from '@logferry/shared/logging/logger';
import { type IngestRequestMessage, ingestRequestMessage } from '@logferry/shared/messages/index';
import { type BlobStatusRow, BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { type AzuriteHandle, startAzurite, waitUntil } from '@logferry/shared/testing';
import type { Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import {
  type AdxStandIn,
  DEFAULT_SERVICE_BUS_CONFIG_PATH,
  type ServiceBusStandIn,
  type ServiceProcess,
  startAdxStandIn,
  startServiceBusStandIn,
  startServiceProcess,
} from '@logferry/standins';

const MAPPINGS = fileURLToPath(new URL('../../../../mappings.json', import.meta.url));
const HEADER = 'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n';
const flow = (tag: string, i: number) => `2024-05-01T10:00:00Z,10.0.0.${i},${tag},5000${i},443,TCP,${i},1,Allow\n`;
const FINAL = ['succeeded', 'failed', 'skipped'];

describe('adx-ingester and completion-checker as processes', () => {
  let azurite: AzuriteHandle;
  let bus: ServiceBusStandIn;
  let adx: AdxStandIn;
  let transport: Transport;
  let data: ContainerClient;
  let store: BlobStatusStore;
  const procs: ServiceProcess[] = [];
  let logDir = '';

  before(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'adx-processes-logs-'));
    // Locks held by a killed process expire in 5 s instead of a minute, so redelivery comes soon.
    const configPath = join(await mkdtemp(join(tmpdir(), 'sb-')), 'Config.json');
    await writeFile(
      configPath,
      (await readFile(DEFAULT_SERVICE_BUS_CONFIG_PATH, 'utf8')).replaceAll('"PT1M"', '"PT5S"'),
    );
    [azurite, bus] = await Promise.all([
      startAzurite(),
      startServiceBusStandIn({ configPath, logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    adx = await startAdxStandIn({ storageConnectionString: azurite.connectionString, pollIntervalMs: 50 });
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 'blob-scanner',
    });
    data = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('data');
    await data.create();
    store = new BlobStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'logferrystatus', { allowInsecureConnection: true }),
    );
    await store.ensureTable();
  });
  after(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await transport?.close();
    await adx?.close();
    await Promise.all([bus?.close(), azurite?.stop()]);
  });

  async function start(
    name: 'adx-ingester' | 'completion-checker',
    env: Record<string, string> = {},
  ): Promise<ServiceProcess> {
    const proc = await startServiceProcess(
      name,
      {
        SERVICEBUS_CONNECTION_STRING: bus.connectionString,
        AzureStorage: azurite.connectionString,
        KUSTO_INGEST_URI: adx.endpoint,
        KUSTO_DATABASE: 'logs',
        KUSTO_AUTH: 'none',
        MAPPINGS_FILE: MAPPINGS,
        LOGFERRY_LOCAL: 'true',
        SHUTDOWN_GRACE_MS: '3000',
        STATUS_POLL_INTERVAL_MS: '100',
        RETRY_BASE_MS: '50',
        RETRY_MAX_MS: '200',
        LOG_LEVEL: 'info',
        ...env,
      },
      { logDir },
    );
    procs.push(proc);
    return proc;
  }

  /** Uploads, claims and publishes, as blob-scanner does. */
  async function submit(blobs: Record<string, string | Buffer>): Promise<void> {
    const requests: IngestRequestMessage[] = [];
    for (const [name, body] of Object.entries(blobs)) {
      const size = Buffer.byteLength(body);
      const { etag = '' } = await data.getBlockBlobClient(name).upload(body, size);
      const { outcome, row } = await store.claim({ container: 'data', name, etag, size }, 'scan-main', 3);
      assert.equal(outcome, 'claimed');
      requests.push(
        ingestRequestMessage(
          { id: randomUUID(), producer: 'blob-scanner' },
          { container: 'data', blobName: name, etag, size, attempt: row?.attempts ?? 1, scanId: 'scan-main' },
        ),
      );
    }
    await transport.publish('ingest-requests', requests);
  }

  /** Waits until every named blob's status row satisfies `done`; on timeout names each row's status and the logs. */
  async function untilRows(
    names: readonly string[],
    done: (r: BlobStatusRow) => boolean,
    context: () => string,
    timeoutMs = 30_000,
  ): Promise<Map<string, BlobStatusRow>> {
    let rows = new Map<string, BlobStatusRow>();
    try {
      return await waitUntil(
        `${names.length} status row(s) to reach their state`,
        async () => {
          rows = new Map();
          for (const name of names) {
            const row = await store.get('data', name);
            if (row) rows.set(name, row);
          }
          return names.every((name) => rows.has(name) && done(rows.get(name)!)) && rows;
        },
        { timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      const seen = names.map((name) => `${name}: ${rows.get(name)?.status}`).join(', ');
      throw new Error(`${(err as Error).message}: ${seen}\n${context().slice(-4000)}`);
    }
  }

  it('ingests the seeds, fails and skips with reasons, times out a silent blob, and exits 0 on SIGTERM', async () => {
    const ingester = await start('adx-ingester');
    const checker = await start('completion-checker', { STALE_AFTER_MS: '4000', STALE_CHECK_INTERVAL_MS: '250' });
    const logs = () => `${ingester.output()}\n${checker.output()}`;
    adx.setFaults({ silent: { match: /^TrafficFlows-silent/ } });
    const blobs = {
      'TrafficFlows-seed.csv': HEADER + flow('seed', 1) + flow('seed', 2),
      'TrafficFlows-a b+c#d.csv': HEADER + flow('odd', 3),
      'AuthEvents-1.json': `${JSON.stringify({ time: '2024-05-01T10:00:00Z', user: { upn: 'u@x.test' }, result: 'Failure' })}\n`,
      'DnsQueries-1.json.gz': gzipSync(JSON.stringify({ ts: '2024-05-01T10:00:00Z', query: { name: 'example.com' } })),
      'Unmapped-1.csv': 'a,b\n',
      'TrafficFlows-malformed.csv': `${HEADER}2024-05-01T10:00:00Z,10.0.0.1\n`,
      'TrafficFlows-silent.csv': HEADER + flow('silent', 4),
    };
    await submit(blobs);
    // The silent blob's first ingestion never reports; its retry (after the timeout) goes through.
    await adx.waitForIngestion((r) => r.blobName === 'TrafficFlows-silent.csv' && r.outcome === 'silent', 30_000);
    adx.setFaults({});
    const rows = await untilRows(Object.keys(blobs), (r) => FINAL.includes(r.status), logs);
    const status = Object.fromEntries([...rows].map(([n, r]) => [n, r.status]));
    assert.deepEqual(status, {
      'TrafficFlows-seed.csv': 'succeeded',
      'TrafficFlows-a b+c#d.csv': 'succeeded',
      'AuthEvents-1.json': 'succeeded',
      'DnsQueries-1.json.gz': 'succeeded',
      'Unmapped-1.csv': 'skipped',
      'TrafficFlows-malformed.csv': 'failed',
      'TrafficFlows-silent.csv': 'succeeded',
    });
    assert.match(rows.get('Unmapped-1.csv')?.lastError ?? '', /NoMapping/);
    assert.equal(rows.get('TrafficFlows-malformed.csv')?.errorCode, 'Stream_WrongNumberOfFields');
    const silent = rows.get('TrafficFlows-silent.csv')!;
    // ADX's silence is not the blob's fault: the rescue keeps the attempt and is counted apart.
    assert.equal(silent.attempts, 1);
    assert.equal(silent.rescues, 1);
    assert.ok(silent.history.some((h) => h.status === 'unknown' && /no ingestion report/.test(h.reason ?? '')));
    assert.deepEqual(
      adx
        .rows('TrafficFlows')
        .map((r) => r.DstIp)
        .sort(),
      ['odd', 'seed', 'seed', 'silent'],
    );
    assert.equal(adx.rows('AuthEvents').length, 1);
    assert.equal(adx.rows('DnsQueries').length, 1);
    await bus.waitFor(() => bus.counts('ingestion-results', 'blob-scanner').active >= 7, 10_000);

    assert.equal(await checker.stop('SIGTERM'), 0, checker.output().slice(-2000));
    assert.equal(await ingester.stop('SIGTERM'), 0, ingester.output().slice(-2000));
  });

  it('kill -9 of either service mid-run loses no blob and leaves none stuck; a second checker idles', async () => {
    const names = Array.from({ length: 8 }, (_, i) => `TrafficFlows-kill-${i}.csv`);
    // A blob the kill catches between its post and postedAt waits REPOST_AFTER_MS for ADX's report before it is
    // posted again: 10 s here (the default is 15 min), far above the stand-in's report latency.
    const repost = { REPOST_AFTER_MS: '10000' };
    let ingester = await start('adx-ingester', repost);
    await submit(Object.fromEntries(names.map((n, i) => [n, HEADER + flow('kill', i)])));
    await untilRows(
      names.slice(0, 1),
      (r) => r.status === 'ingesting',
      () => ingester.output(),
    );
    await ingester.stop('SIGKILL');
    ingester = await start('adx-ingester', repost);
    // Each blob posted, or (killed before postedAt) its redelivery seen by the new ingester, waiting for a report.
    const awaiting = (r: BlobStatusRow) =>
      ingester
        .output()
        .split('\n')
        .some(
          (l) =>
            l.includes(`"blob":${JSON.stringify(r.blobName)}`) && l.includes('ingesting but not known to be posted'),
        );
    await untilRows(
      names,
      (r) => r.status === 'ingesting' && (r.postedAt !== undefined || awaiting(r)),
      () => ingester.output(),
    );

    // Reports wait on the queues while no checker runs; the first checker dies after the first save.
    let checker = await start('completion-checker', {
      STATUS_BATCH_SIZE: '1',
      STATUS_VISIBILITY_TIMEOUT_S: '5',
      STALE_AFTER_MS: '600000',
    });
    await untilRows(
      names.slice(0, 1),
      (r) => r.status === 'succeeded',
      () => checker.output(),
    );
    await checker.stop('SIGKILL');
    // The lease of the killed checker blocks new readers for up to its 60 s: release it as an expiry would.
    await breakLease();
    checker = await start('completion-checker', { STALE_AFTER_MS: '600000' });
    const standby = await start('completion-checker', { STALE_AFTER_MS: '600000' });
    await untilRows(
      names,
      (r) => r.status === 'succeeded',
      () => checker.output() + standby.output(),
    );

    const tags = adx
      .rows('TrafficFlows')
      .filter((r) => r.DstIp === 'kill')
      .map((r) => r.SrcIp);
    for (let i = 0; i < names.length; i++) assert.ok(tags.includes(`10.0.0.${i}`), `blob ${i} ingested`);
    const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    // A report the killed checker had saved but not deleted reappears after its visibility timeout and goes.
    let left = 0;
    await waitUntil(
      'the status queues to empty',
      async () => {
        const counts = await Promise.all(
          [adx.names.successQueue, adx.names.failureQueue].map(
            async (q) => (await queues.getQueueClient(q).getProperties()).approximateMessagesCount ?? 0,
          ),
        );
        left = counts.reduce((a, b) => a + b, 0);
        return left === 0;
      },
      { timeoutMs: 20_000, intervalMs: 200, diagnostics: () => `${left} reports left` },
    );
    const history = (
      await untilRows(
        names,
        () => true,
        () => '',
      )
    ).values();
    for (const row of history) {
      assert.equal(row.history.filter((h) => h.status === 'succeeded').length, 1, `${row.blobName} succeeded once`);
    }
    // The reports may all be settled before these two have even started: wait until each has said what it is.
    const started = (p: ServiceProcess) => /reading ADX status queues|standing by/.test(p.output());
    await waitUntil('both checkers to settle the reader lease', () => started(checker) && started(standby), {
      timeoutMs: 20_000,
    });
    const readers = [checker, standby].filter((p) => p.output().includes('reading ADX status queues'));
    const idle = [checker, standby].filter((p) => p.output().includes('standing by'));
    assert.equal(readers.length, 1, `one reader:\n${checker.output().slice(-3000)}\n${standby.output().slice(-3000)}`);
    assert.equal(idle.length, 1, 'one standby');
    assert.equal(await standby.stop('SIGTERM'), 0);
    assert.equal(await checker.stop('SIGTERM'), 0);
    assert.equal(await ingester.stop('SIGTERM'), 0);
  });

  async function breakLease(): Promise<void> {
    const blob = BlobServiceClient.fromConnectionString(azurite.connectionString)
      .getContainerClient('logferry-locks')
      .getBlobClient('completion-checker.lock');
    await blob.getBlobLeaseClient().breakLease(0);
  }
});
