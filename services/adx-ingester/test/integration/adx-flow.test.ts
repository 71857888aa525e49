import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueClient } from '@azure/storage-queue';
import { createLogger } from '@logferry/shared/logging/logger';
import { loadMappings } from '@logferry/shared/mappings/index';
import type { IngestRequestMessage, MessageOf, StagedBatchMessage, TopicName } from '@logferry/shared/messages/index';
import { type BlobStatusRow, BlobStatusStore, toEntity } from '@logferry/shared/stores/blob-status';
import { type AzuriteHandle, stageJsonArrayBatch, stageNdjsonBatch, startAzurite } from '@logferry/shared/testing';
import type { Delivery, Outcome, Publisher } from '@logferry/shared/transport/port';
import { type AdxStandIn, startAdxStandIn } from '@logferry/standins';
import { applyReport } from '../../../completion-checker/src/apply-report.ts';
import { ReportReader } from '../../../completion-checker/src/report-reader.ts';
import { StaleSweeper } from '../../../completion-checker/src/stale-sweeper.ts';
import { StatusQueueProvider } from '../../../completion-checker/src/status-queues.ts';
import { decodeReport } from '../../../completion-checker/src/status-report.ts';
import { createBlobUrlFor } from '../../src/blob-url.ts';
import { createIngestRequestHandler } from '../../src/handle-ingest-request.ts';
import { createStagedBatchHandler } from '../../src/handle-staged-batch.ts';
import { createKustoIngestor } from '../../src/kusto-ingestor.ts';

const logger = createLogger('test', { level: 'silent' });
const mappings = loadMappings(new URL('../../../../mappings.json', import.meta.url).pathname);
const FLOWS_HEADER = 'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n';
const flows = (n: number) =>
  FLOWS_HEADER +
  Array.from(
    { length: n },
    (_, i) => `2024-05-01T10:00:0${i}Z,10.0.0.${i},192.0.2.1,5000${i},443,TCP,${100 + i},1,Allow\n`,
  ).join('');

class RecordingPublisher implements Publisher {
  readonly sent: { topic: TopicName; message: unknown }[] = [];
  async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    for (const message of messages) this.sent.push({ topic, message });
  }
  of<T extends TopicName>(topic: T): MessageOf<T>[] {
    return this.sent.filter((s) => s.topic === topic).map((s) => s.message as MessageOf<T>);
  }
}

function delivery<T>(body: T): Delivery<T> {
  return {
    body,
    messageId: randomUUID(),
    deliveryCount: 1,
    attempt: 1,
    enqueuedAt: new Date(),
    traceparent: undefined,
    signal: new AbortController().signal,
  };
}

describe('adx-ingester and completion-checker against Azurite and the ADX stand-in', () => {
  let azurite: AzuriteHandle;
  let adx: AdxStandIn;
  let data: ContainerClient;
  let store: BlobStatusStore;
  let publisher: RecordingPublisher;
  let queues: StatusQueueProvider;
  let reader: ReportReader;
  let handle: (m: IngestRequestMessage) => Promise<Outcome>;
  let closeIngestor: () => void;
  let handlerDeps: Parameters<typeof createIngestRequestHandler>[0];
  let handleBatch: (m: StagedBatchMessage) => Promise<Outcome>;

  before(async () => {
    azurite = await startAzurite();
    adx = await startAdxStandIn({ storageConnectionString: azurite.connectionString, pollIntervalMs: 50 });
    const blobService = BlobServiceClient.fromConnectionString(azurite.connectionString);
    data = blobService.getContainerClient('data');
    await data.create();
    const table = TableClient.fromConnectionString(azurite.connectionString, 'status', {
      allowInsecureConnection: true,
    });
    store = new BlobStatusStore(table);
    await store.ensureTable();
    publisher = new RecordingPublisher();
    const ingestor = createKustoIngestor({
      ingestUri: adx.endpoint,
      database: 'logs',
      auth: { kind: 'none' },
      reportLevel: 'FailuresAndSuccesses',
    });
    closeIngestor = () => ingestor.close();
    const blobUrlFor = createBlobUrlFor({
      blobService,
      mode: 'sas',
      hasAccountKey: true,
      identity: 'system',
      sasTtlMs: 3600_000,
    });
    handlerDeps = { store, ingestor, blobUrlFor, publisher, logger, mappings, maxAttempts: 3 };
    const handler = createIngestRequestHandler(handlerDeps);
    handle = (m) => handler(delivery(m));
    const batches = createStagedBatchHandler({
      store,
      ingestor,
      blobUrlFor,
      publisher,
      logger,
      mappings,
      maxAttempts: 3,
      container: (name) => blobService.getContainerClient(name),
    });
    handleBatch = (m) => batches(delivery(m));
    queues = new StatusQueueProvider({ ingestUri: adx.endpoint, auth: { kind: 'none' }, refreshMs: 60_000 });
    reader = new ReportReader({
      store,
      publisher,
      logger,
      queues: () => queues.get(),
      batchSize: 32,
      visibilityTimeoutS: 30,
      foreignReports: 'hide',
      foreignHideS: 3600,
    });
  });
  after(async () => {
    closeIngestor?.();
    queues?.close();
    await adx?.close();
    await azurite?.stop();
  });

  /** What blob-scanner does: upload, claim, publish the request; here the request goes straight to the handler. */
  async function uploadAndRequest(
    name: string,
    body: string | Buffer,
  ): Promise<{ outcome: Outcome; request: IngestRequestMessage }> {
    const blob = data.getBlockBlobClient(name);
    const uploaded = await blob.upload(body, Buffer.byteLength(body));
    const ref = { container: 'data', name, etag: uploaded.etag ?? '', size: Buffer.byteLength(body) };
    const claim = await store.claim(ref, 'scan-1', 3);
    assert.equal(claim.outcome, 'claimed');
    const request = requestOf(ref);
    return { outcome: await handle(request), request };
  }

  /** The first attempt's request for a claimed blob, as blob-scanner publishes it. */
  function requestOf(ref: { name: string; etag: string; size: number }): IngestRequestMessage {
    return {
      type: 'ingest-request',
      schemaVersion: 1,
      id: randomUUID(),
      producer: 'blob-scanner',
      time: new Date().toISOString(),
      container: 'data',
      blobName: ref.name,
      etag: ref.etag,
      size: ref.size,
      attempt: 1,
      scanId: 'scan-1',
    };
  }

  /** Reads reports until the row satisfies `done` (default: leaves queued/ingesting), within a bounded time. */
  async function settle(name: string, done = (r: BlobStatusRow) => !['queued', 'ingesting'].includes(r.status)) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await reader.pollOnce();
      const row = await store.get('data', name);
      if (row && done(row)) return row;
      if (Date.now() > deadline) throw new Error(`row ${name} still ${row?.status}`);
    }
  }

  it('CSV with its mapping, a name with spaces, + and #: rows in ADX, row succeeded, result published', async () => {
    const name = 'TrafficFlows-2024 05 01 a+b#c.csv';
    const { outcome } = await uploadAndRequest(name, flows(3));
    assert.equal(outcome.kind, 'success');
    const ingesting = await store.get('data', name);
    assert.equal(ingesting?.status, 'ingesting');
    assert.match(ingesting?.sourceId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(ingesting?.postedAt);
    const row = await settle(name);
    assert.equal(row.status, 'succeeded');
    assert.equal(row.table, 'TrafficFlows');
    const rows = adx.rows('TrafficFlows').filter((r) => r.DstIp === '192.0.2.1');
    assert.equal(rows.length, 3, 'header skipped, three records');
    assert.deepEqual(rows[0], {
      TimeGenerated: '2024-05-01T10:00:00.000Z',
      SrcIp: '10.0.0.0',
      DstIp: '192.0.2.1',
      SrcPort: 50000,
      DstPort: 443,
      Protocol: 'TCP',
      Bytes: 100,
      Packets: 1,
      Action: 'Allow',
    });
    const result = publisher.of('ingestion-results').find((r) => r.blobName === name);
    assert.equal(result?.status, 'succeeded');
    assert.equal(result?.sourceId, row.sourceId);
    const left = await new QueueClient((await queues.get()).success[0]!.url).peekMessages({ numberOfMessages: 32 });
    assert.equal(left.peekedMessageItems.length, 0, 'the report was deleted after the save');
  });

  it('JSON lines and gzip multijson sources succeed; a redelivered request does not ingest twice', async () => {
    const auth = `${JSON.stringify({ time: '2024-05-01T10:00:00Z', user: { upn: 'a@x.test' }, result: 'Success', client: { ip: '10.1.1.1' }, app: 'portal' })}\n`;
    const { request } = await uploadAndRequest('AuthEvents-1.json', auth);
    assert.equal((await handle(request)).kind, 'success', 'redelivery');
    const dns = gzipSync(
      '{"ts":"2024-05-01T10:00:00Z","client":"10.0.0.5","query":{"name":"example.com","type":"A"},"rcode":"NOERROR"}\n{"ts":"2024-05-01T10:00:01Z","client":"10.0.0.5","query":{"name":"example.org","type":"A"},"rcode":"NOERROR"}',
    );
    await uploadAndRequest('DnsQueries-1.json.gz', dns);
    assert.equal((await settle('AuthEvents-1.json')).status, 'succeeded');
    assert.equal((await settle('DnsQueries-1.json.gz')).status, 'succeeded');
    assert.deepEqual(
      adx.rows('AuthEvents').map((r) => r.UserPrincipalName),
      ['a@x.test'],
    );
    assert.deepEqual(
      adx.rows('DnsQueries').map((r) => r.QueryName),
      ['example.com', 'example.org'],
    );
    assert.equal(adx.ingestions().filter((i) => i.blobName === 'AuthEvents-1.json').length, 1);
  });

  it('no mapping → skipped with the reason, not retried; malformed CSV → failed with the reason', async () => {
    const { outcome } = await uploadAndRequest('Unknown-1.csv', 'a,b\n1,2\n');
    assert.equal(outcome.kind, 'success');
    const skipped = await store.get('data', 'Unknown-1.csv');
    assert.equal(skipped?.status, 'skipped');
    assert.match(skipped?.lastError ?? '', /^NoMapping: .*"Unknown"/);
    assert.ok(!adx.ingestions().some((i) => i.blobName === 'Unknown-1.csv'));
    const skippedResult = publisher.of('ingestion-results').find((r) => r.blobName === 'Unknown-1.csv');
    assert.equal(skippedResult?.status, 'skipped');
    assert.equal(skippedResult?.sourceId, undefined);
    assert.match(skippedResult?.details ?? '', /^NoMapping: /);

    assert.equal((await uploadAndRequest('TrafficFlows-empty.csv', '')).outcome.kind, 'success');
    assert.equal((await store.get('data', 'TrafficFlows-empty.csv'))?.status, 'skipped');
    assert.equal(
      publisher.of('ingestion-results').find((r) => r.blobName === 'TrafficFlows-empty.csv')?.status,
      'skipped',
    );

    await uploadAndRequest('TrafficFlows-bad.csv', `${FLOWS_HEADER}2024-05-01T10:00:00Z,10.0.0.1\n`);
    const failed = await settle('TrafficFlows-bad.csv');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.errorCode, 'Stream_WrongNumberOfFields');
    assert.equal(failed.failureStatus, 'Permanent');
    assert.match(failed.lastError ?? '', /Stream_WrongNumberOfFields \(Permanent\): record 1 has 2 fields/);
    assert.equal(
      publisher.of('ingestion-results').find((r) => r.blobName === 'TrafficFlows-bad.csv')?.status,
      'failed',
    );
    assert.equal(
      (
        await store.claim(
          { container: 'data', name: 'TrafficFlows-bad.csv', etag: failed.etag, size: failed.size },
          's',
          3,
        )
      ).outcome,
      'unchanged',
    );
  });

  it('a redelivered post of the same blob version is a no-op: it waits for the report instead of posting again', async () => {
    const name = 'TrafficFlows-killed-after-post.csv';
    const { outcome, request } = await uploadAndRequest(name, flows(2));
    assert.equal(outcome.kind, 'success');
    // What adx-ingester killed between ADX's queue taking the post and `postedAt` being saved leaves behind.
    const posted = (await store.get('data', name)) as BlobStatusRow;
    const statusTable = TableClient.fromConnectionString(azurite.connectionString, 'status', {
      allowInsecureConnection: true,
    });
    await statusTable.updateEntity(toEntity({ ...posted, postedAt: undefined }) as never, 'Replace');
    const redelivered = await handle(request);
    assert.equal(redelivered.kind, 'retryLater');
    assert.ok(redelivered.kind === 'retryLater' && redelivered.code === 'AwaitingAdxReport');
    assert.ok(redelivered.kind === 'retryLater' && (redelivered.delayMs ?? 0) > 60_000, 'waits, does not post');
    // ADX's report on the first post settles the row; the delayed redelivery then finds nothing to do.
    assert.equal((await settle(name)).status, 'succeeded');
    assert.deepEqual(await handle(request), { kind: 'success' });
    const runs = adx.ingestions().filter((r) => r.blobName === name);
    assert.equal(runs.length, 1, 'ADX ran the blob once');
  });

  it('an unconfirmed post that never reached ADX is posted again once nothing was heard within REPOST_AFTER_MS', async () => {
    const name = 'TrafficFlows-killed-before-post.csv';
    const blob = data.getBlockBlobClient(name);
    const body = flows(1);
    const uploaded = await blob.upload(body, Buffer.byteLength(body));
    const ref = { container: 'data', name, etag: uploaded.etag ?? '', size: Buffer.byteLength(body) };
    await store.claim(ref, 'scan-1', 3);
    // Killed after saving the source id, before the post: ADX never heard of it.
    const sourceId = randomUUID();
    await store.markIngesting('data', name, {
      sourceId,
      table: 'TrafficFlows',
      format: 'csv',
      mapping: 'TrafficFlows_csv',
    });
    const later = createIngestRequestHandler({ ...handlerDeps, now: () => Date.now() + 900_001 });
    assert.deepEqual(await later(delivery(requestOf(ref))), { kind: 'success' });
    assert.equal((await settle(name)).status, 'succeeded');
    const runs = adx.ingestions().filter((r) => r.blobName === name);
    assert.deepEqual(
      runs.map((r) => r.sourceId),
      [sourceId],
      'posted once, with the saved source id',
    );
  });

  it('a transient failure is queued again and succeeds on the next attempt', async () => {
    adx.setFaults({ transient: { match: /^TrafficFlows-flaky/, times: 1 } });
    const name = 'TrafficFlows-flaky.csv';
    await uploadAndRequest(name, flows(2));
    const row = await settle(name, (r) => r.status === 'queued' && r.attempts === 2);
    assert.equal(row?.attempts, 2);
    assert.equal(row?.failureStatus, 'Transient');
    const retry = publisher.of('ingest-requests').find((r) => r.blobName === name);
    assert.equal(retry?.attempt, 2);
    assert.equal((await handle(retry!)).kind, 'success');
    const done = await settle(name);
    assert.equal(done.status, 'succeeded');
    assert.equal(done.attempts, 2);
    adx.setFaults({});
  });

  it('crash between the row save and the report delete: the reprocessed report changes nothing twice', async () => {
    const name = 'TrafficFlows-crash.csv';
    adx.setFaults({ transient: { match: /^TrafficFlows-crash/, times: 1 } });
    const { request } = await uploadAndRequest(name, flows(1));
    const sourceId = (await store.get('data', name))?.sourceId;
    await adx.waitForIngestion((r) => r.sourceId === sourceId);
    adx.setFaults({});
    // The checker receives the report and saves the row, then dies before deleting it.
    const failureQueue = (await queues.get()).failure[0]!;
    const { receivedMessageItems } = await failureQueue.receiveMessages({
      numberOfMessages: 32,
      visibilityTimeout: 30,
    });
    const reportOf = (text: string) => {
      const r = decodeReport('failure', text);
      return r.kind === 'unreadable' ? undefined : r;
    };
    const item = receivedMessageItems.find((m) => reportOf(m.messageText)?.IngestionSourceId === sourceId)!;
    const applied = await applyReport({ store, publisher, logger }, reportOf(item.messageText)!);
    assert.equal(applied, 'applied');
    const before = publisher.of('ingest-requests').filter((r) => r.blobName === name).length;
    // Its visibility timeout runs out; the restarted checker reads it again.
    await failureQueue.updateMessage(item.messageId, item.popReceipt, undefined, 0);
    for (const other of receivedMessageItems.filter((m) => m !== item)) {
      await failureQueue.updateMessage(other.messageId, other.popReceipt, undefined, 0);
    }
    await reader.pollOnce();
    const row = await store.get('data', name);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 2, 'the failure counted once');
    assert.equal(row?.history.filter((h) => h.status === 'queued').length, 2, 'claim + one retry');
    assert.equal(
      publisher.of('ingest-requests').filter((r) => r.blobName === name).length,
      before + 1,
      'the retry request is re-sent',
    );
    assert.equal(
      (await failureQueue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length,
      0,
      'now deleted',
    );
    const retry = publisher
      .of('ingest-requests')
      .filter((r) => r.blobName === name)
      .at(-1)!;
    assert.equal(retry.attempt, 2);
    assert.equal((await handle(retry)).kind, 'success');
    assert.equal((await handle(retry)).kind, 'success', 'the duplicate retry request is a no-op');
    assert.equal((await settle(name)).status, 'succeeded');
    assert.equal(adx.ingestions().filter((i) => i.blobName === name && i.outcome === 'succeeded').length, 1);
    assert.ok(request);
  });

  it('a report for a source id no row knows is left on the shared queue', async () => {
    const successQueue = (await queues.get()).success[0]!;
    const foreign = {
      IngestionSourceId: randomUUID(),
      Database: 'other',
      Table: 'Other',
      SucceededOn: new Date().toISOString(),
    };
    await successQueue.sendMessage(Buffer.from(JSON.stringify(foreign)).toString('base64'));
    await reader.pollOnce();
    assert.equal((await successQueue.peekMessages()).peekedMessageItems.length, 0, 'hidden from us for a while');
    const { receivedMessageItems } = await successQueue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
    assert.equal(receivedMessageItems.length, 0, 'still hidden');
    const props = await successQueue.getProperties();
    assert.equal(props.approximateMessagesCount, 1, 'but not deleted');
  });

  it('a blob whose report never arrives becomes unknown after the timeout and is queued again', async () => {
    adx.setFaults({ silent: { match: /^TrafficFlows-silent/ } });
    const name = 'TrafficFlows-silent.csv';
    await uploadAndRequest(name, flows(1));
    const sourceId = (await store.get('data', name))?.sourceId;
    await adx.waitForIngestion((r) => r.sourceId === sourceId && r.outcome === 'silent');
    adx.setFaults({});
    await reader.pollOnce();
    assert.equal((await store.get('data', name))?.status, 'ingesting', 'no report: still ingesting');
    // Two hours later (the sweeper's clock), with a one-hour timeout.
    const later = () => new Date(Date.now() + 2 * 3600_000);
    const lateStore = new BlobStatusStore(
      TableClient.fromConnectionString(azurite.connectionString, 'status', { allowInsecureConnection: true }),
      { now: later },
    );
    const sweeper = new StaleSweeper({
      store: lateStore,
      publisher,
      logger,
      staleAfterMs: 3600_000,
      limit: 100,
      maxRescues: 3,
      reportLevel: 'FailuresAndSuccesses',
      now: later,
    });
    const counts = await sweeper.sweepOnce();
    assert.ok(counts.unknown >= 1 && counts.requeued >= 1);
    const row = await store.get('data', name);
    assert.equal(row?.status, 'queued');
    assert.equal(row?.attempts, 1, 'ADX silence is not the blob’s fault: the rescue keeps its attempt');
    assert.equal(row?.rescues, 1);
    assert.deepEqual(
      row?.history.slice(-3).map((h) => h.status),
      ['ingesting', 'unknown', 'queued'],
    );
    assert.match(row?.history.at(-2)?.reason ?? '', /no ingestion report within 60 min/);
    assert.ok(publisher.of('ingestion-results').some((r) => r.blobName === name && r.status === 'unknown'));
    const requests = publisher.of('ingest-requests').filter((r) => r.blobName === name);
    const retry = requests.at(-1);
    assert.equal(retry?.attempt, 1);
    assert.equal(new Set(requests.map((r) => r.id)).size, requests.length, 'the rescue has an id of its own');
    assert.equal((await handle(retry!)).kind, 'success');
    assert.equal((await settle(name)).status, 'succeeded');
  });

  it('staged batches: a source routed by mappings.json goes to ADX, others are left to la-uploader', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    await container.createIfNotExists();
    const queries = [
      { ts: '2024-05-01T10:00:00Z', query: { name: 'staged.test' } },
      { ts: '2024-05-01T10:00:01Z', query: { name: 'staged2.test' } },
    ];
    const batch = (source: string, objectId: string) => ({ objectId, batchIndex: 0, source, records: queries });
    const ingested = async (blobName: string) => {
      const deadline = Date.now() + 10_000;
      let row = await store.get('staging', blobName);
      while (row?.status !== 'succeeded' && Date.now() < deadline) {
        await reader.pollOnce();
        row = await store.get('staging', blobName);
      }
      return row;
    };
    // As s3-fetcher stages it now (v2: one gzip JSON array), for a multijson entry.
    const dns = await stageJsonArrayBatch(container, batch('DnsQueries', 'bucket/dns.json@v1'));
    const unrouted = await stageJsonArrayBatch(container, batch('Code42FileEvents', 'bucket/c42.json@v1'));
    assert.equal((await handleBatch(unrouted)).kind, 'success');
    assert.equal(await store.get('staging', unrouted.blobName), undefined, 'not routed: no row');
    assert.equal((await handleBatch(dns)).kind, 'success');
    assert.equal((await ingested(dns.blobName))?.status, 'succeeded');
    assert.ok(adx.rows('DnsQueries').some((r) => r.QueryName === 'staged2.test'));

    // A json entry (one object per line) still gets a v2 batch's rows: it is ingested as multijson.
    const auth = [
      { time: '2024-05-01T10:00:00Z', user: { upn: 'staged-a@example.com' }, result: 'Success' },
      { time: '2024-05-01T10:00:01Z', user: { upn: 'staged-b@example.com' }, result: 'Failure' },
    ];
    const authBatch = await stageJsonArrayBatch(container, {
      objectId: 'bucket/auth@v1',
      batchIndex: 0,
      source: 'AuthEvents',
      records: auth,
    });
    assert.equal((await handleBatch(authBatch)).kind, 'success');
    const authRow = await ingested(authBatch.blobName);
    assert.equal(authRow?.status, 'succeeded');
    assert.equal(authRow?.format, 'multijson');
    const upns = adx.rows('AuthEvents').map((r) => r.UserPrincipalName);
    assert.ok(upns.includes('staged-a@example.com') && upns.includes('staged-b@example.com'), JSON.stringify(upns));

    // A v1 batch (gzip NDJSON) still in flight after the upgrade is ingested as its entry says.
    const legacy = await stageNdjsonBatch(container, {
      objectId: 'bucket/auth-v1@v1',
      batchIndex: 0,
      source: 'AuthEvents',
      records: [{ ...auth[0], user: { upn: 'legacy@example.com' } }],
    });
    assert.equal((await handleBatch(legacy)).kind, 'success');
    const legacyRow = await ingested(legacy.blobName);
    assert.equal(legacyRow?.status, 'succeeded');
    assert.equal(legacyRow?.format, 'json');
    assert.ok(adx.rows('AuthEvents').some((r) => r.UserPrincipalName === 'legacy@example.com'));

    const missing = await handleBatch({ ...dns, blobName: 'DnsQueries/gone.json.gz' });
    assert.equal(missing.kind, 'deadLetter');
  });

  it('a status table that does not answer is a typed retry (StatusTableUnavailable), not a handler bug', async () => {
    const port = await closedPort();
    const unreachable = new BlobStatusStore(
      TableClient.fromConnectionString(azurite.connectionString.replace(/:\d+\//g, `:${port}/`), 'status', {
        allowInsecureConnection: true,
        retryOptions: { maxRetries: 0 },
      }),
    );
    const deps = {
      store: unreachable,
      ingestor: { ingest: async () => {}, close: () => {} },
      publisher,
      logger,
      mappings,
      maxAttempts: 3,
    };
    const blobUrlFor = async () => 'http://127.0.0.1/unused';
    const request = createIngestRequestHandler({ ...deps, blobUrlFor });
    const requested = await request(
      delivery({
        type: 'ingest-request',
        schemaVersion: 1,
        id: randomUUID(),
        producer: 'cli',
        time: new Date().toISOString(),
        container: 'data',
        blobName: 'Flows-outage.csv',
        etag: '"0x1"',
        size: 10,
        attempt: 1,
      }),
    );
    assert.equal(requested.kind === 'retryLater' && requested.code, 'StatusTableUnavailable');
    const staging = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('staging');
    await staging.createIfNotExists();
    const body = gzipSync('{"ts":"2024-05-01T10:00:00Z","query":{"name":"outage.test"}}\n');
    await staging.getBlockBlobClient('DnsQueries/outage.json.gz').upload(body, body.length);
    const batches = createStagedBatchHandler({
      ...deps,
      blobUrlFor,
      container: (name) => BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(name),
    });
    const staged = await batches(
      delivery({
        type: 'staged-batch',
        schemaVersion: 1,
        id: 'DnsQueries-outage-0',
        producer: 's3-fetcher',
        time: new Date().toISOString(),
        objectId: 'bucket/outage@v1',
        batchIndex: 0,
        lastBatch: true,
        blobContainer: 'staging',
        blobName: 'DnsQueries/outage.json.gz',
        recordCount: 1,
        rawBytes: 60,
        compressedBytes: body.length,
        source: 'DnsQueries',
      }),
    );
    assert.equal(staged.kind === 'retryLater' && staged.code, 'StatusTableUnavailable');
  });
});

/** A loopback port nothing listens on: connections are refused at once. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
