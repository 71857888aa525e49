// Forged messages: anyone with Send on a topic chooses the blob (or bucket) a message names. Each consuming
// service, run as its own process, must check the reference against its own configuration and dead-letter
// it ForbiddenReference without reading, writing or deleting anything: the victim's blobs stay as they were
// and their records reach neither Log Analytics nor ADX.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { createLogger } from '@logferry/shared/logging/logger';
import type { MessageOf } from '@logferry/shared/messages/index';
import { waitUntil } from '@logferry/shared/testing/wait';
import type { Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { type LocalStack, type ServiceProcess, startLocalStack, startServiceProcess } from '@logferry/standins';

const MARKER = `VICTIM-${randomUUID()}`;
const VICTIM = 'victim';
const STAGED_NAME = 'AuthEvents/2024/01/01/0000000000000000/000000.ndjson.gz';
const victimRecords = [1, 2, 3].map((i) => ({ TimeGenerated: '2024-01-01T00:00:00Z', UserId: MARKER, Seq: i }));
const ndjson = `${victimRecords.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('hostile input (services as processes)', () => {
  let stack: LocalStack;
  let transport: Transport;
  const services: ServiceProcess[] = [];
  const blobs = () => BlobServiceClient.fromConnectionString(stack.endpoints.storageConnectionString);

  before(async () => {
    stack = await startLocalStack();
    const e = stack.endpoints;
    const victim = blobs().getContainerClient(VICTIM);
    await victim.createIfNotExists();
    await victim.getBlockBlobClient(STAGED_NAME).uploadData(gzipSync(ndjson));
    await victim.getBlockBlobClient('AuthEvents-victim.json').uploadData(Buffer.from(ndjson));
    await blobs().getContainerClient(e.dataContainer).getBlockBlobClient(STAGED_NAME).uploadData(gzipSync(ndjson));
    const s3 = stack.fauxqs.s3();
    await s3.send(new CreateBucketCommand({ Bucket: 'someone-elses-bucket' }));
    await s3.send(new PutObjectCommand({ Bucket: 'someone-elses-bucket', Key: 'x.json', Body: ndjson }));
    await s3.send(new PutObjectCommand({ Bucket: e.bucket, Key: '../evil.json', Body: ndjson }));

    const env = (name: 'la-uploader' | 'adx-ingester' | 's3-fetcher', extra: Record<string, string> = {}) => ({
      ...stack.serviceEnv(name),
      RETRY_BASE_MS: '100',
      RETRY_MAX_MS: '500',
      ...extra,
    });
    for (const [name, extra] of [
      ['la-uploader', {}],
      ['adx-ingester', {}],
      ['s3-fetcher', { SOURCE_FROM_KEY_PREFIX: 'true' }],
    ] as const) {
      services.push(await startServiceProcess(name, env(name, extra), { logDir: stack.logDir }));
    }
    await Promise.all(services.map((s) => s.waitForReady(60_000)));
    transport = createServiceBusTransport({
      connection: { connectionString: e.serviceBusConnectionString },
      logger: createLogger('forger', { level: 'silent' }),
      service: 'cli',
    });
  });
  after(async () => {
    await transport?.close();
    await Promise.all(services.map((s) => s.stop('SIGTERM', 10_000)));
    await stack?.stop();
  });

  const envelope = (id: string) => ({
    schemaVersion: 1 as const,
    id,
    producer: 'cli' as const,
    time: new Date().toISOString(),
  });
  const stagedBatch = (id: string, blobContainer: string, blobName: string): MessageOf<'staged-batches'> => ({
    type: 'staged-batch',
    ...envelope(id),
    objectId: `forged/${id}@1`,
    batchIndex: 0,
    lastBatch: true,
    blobContainer,
    blobName,
    recordCount: victimRecords.length,
    rawBytes: ndjson.length,
    compressedBytes: 100,
    // Routed to ADX by mappings.json, so adx-ingester would ingest it too if it trusted the message.
    source: 'AuthEvents',
  });
  const ingestRequest = (id: string, container: string, blobName: string): MessageOf<'ingest-requests'> => ({
    type: 'ingest-request',
    ...envelope(id),
    container,
    blobName,
    etag: '"0x1"',
    size: ndjson.length,
    attempt: 1,
  });
  const s3Object = (id: string, bucket: string, key: string): MessageOf<'s3-objects'> => ({
    type: 's3-object',
    ...envelope(id),
    bucket,
    key,
    origin: 'backfill',
  });

  it('dead-letters every forged reference ForbiddenReference; the victim is untouched and its data nowhere', async () => {
    const e = stack.endpoints;
    const victim = blobs().getContainerClient(VICTIM);
    const before = {
      staged: (await victim.getBlobClient(STAGED_NAME).getProperties()).etag,
      request: (await victim.getBlobClient('AuthEvents-victim.json').getProperties()).etag,
    };
    const forgedBatches = [
      stagedBatch('sb-other-container', VICTIM, STAGED_NAME),
      stagedBatch('sb-data-container', e.dataContainer, STAGED_NAME),
      stagedBatch('sb-traversal', e.stagingContainer, `AuthEvents/../../${VICTIM}/${STAGED_NAME}`),
      stagedBatch('sb-encoded-traversal', e.stagingContainer, `AuthEvents/%2e%2e/%2e%2e/${VICTIM}/${STAGED_NAME}`),
    ];
    const forgedRequests = [
      ingestRequest('ir-other-container', VICTIM, 'AuthEvents-victim.json'),
      ingestRequest('ir-traversal', e.dataContainer, `../${VICTIM}/AuthEvents-victim.json`),
    ];
    await transport.publish('staged-batches', forgedBatches);
    await transport.publish('ingest-requests', forgedRequests);
    await transport.publish('s3-objects', [
      s3Object('s3-other-bucket', 'someone-elses-bucket', 'x.json'),
      s3Object('s3-traversal-key', e.bucket, '../evil.json'),
    ]);

    const expected: [topic: string, subscription: string, count: number][] = [
      ['staged-batches', 'la-uploader', 4],
      ['staged-batches', 'adx-ingester', 4],
      ['ingest-requests', 'adx-ingester', 2],
      ['s3-objects', 's3-fetcher', 2],
    ];
    const dlq = (t: string, s: string) => stack.serviceBus.deadLetters(t, s);
    await waitUntil(
      'every forged reference dead-lettered',
      () => expected.every(([t, s, n]) => dlq(t, s).length >= n),
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        diagnostics: () =>
          expected.map(([t, s]) => `${t}/${s}: ${JSON.stringify(dlq(t, s).map((d) => d.reason))}`).join('; ') +
          `\n${services.map((p) => `--- ${p.name}\n${p.output().split('\n').slice(-6).join('\n')}`).join('\n')}`,
      },
    );
    for (const [t, s, n] of expected) {
      const letters = dlq(t, s);
      assert.equal(letters.length, n, `${t}/${s}`);
      for (const d of letters) {
        assert.equal(d.reason, 'ForbiddenReference', `${t}/${s}: ${d.reason} ${d.description}`);
        // On the first delivery: refused, never retried.
        assert.equal(stack.serviceBus.counts(t, s).scheduled, 0, `${t}/${s} has retries scheduled`);
      }
    }
    // Why, as the broker recorded each dead letter (what `logferry dlq show` prints): the refused reference
    // and the problem, per message (the rhea fix keeps two dispositions settled in one tick apart).
    const whyOf = (t: string, s: string) =>
      new Map(
        stack.serviceBus.records.deadLetters(t, s).map((d) => [(d.body as { id: string }).id, d.description ?? '']),
      );
    const fetcher = whyOf('s3-objects', 's3-fetcher');
    assert.equal(
      fetcher.get('s3-other-bucket'),
      '"s3://someone-elses-bucket/x.json": bucket not in S3_ALLOWED_BUCKETS / ROUTES_FILE',
    );
    assert.match(
      fetcher.get('s3-traversal-key') ?? '',
      /^"s3:\/\/[^"]+\/\.\.\/evil\.json": SOURCE_FROM_KEY_PREFIX: ".." yields no source name/,
    );
    // la-uploader and adx-ingester name the forged container/blob and the problem in each description.
    const references = (
      messages: readonly { id: string; container?: string; blobContainer?: string; blobName: string }[],
    ) => messages.map((m) => [m.id, `${m.blobContainer ?? m.container}/${m.blobName}`] as const);
    for (const [t, s, refs] of [
      ['staged-batches', 'la-uploader', references(forgedBatches)],
      ['staged-batches', 'adx-ingester', references(forgedBatches)],
      ['ingest-requests', 'adx-ingester', references(forgedRequests)],
    ] as const) {
      const why = whyOf(t, s);
      for (const [id, reference] of refs) {
        const description = why.get(id) ?? '';
        assert.ok(description.startsWith(`${JSON.stringify(reference)}: `), `${t}/${s} ${id}: ${description}`);
        assert.ok(description.length > JSON.stringify(reference).length + 2, `${t}/${s} ${id} names the problem`);
      }
    }

    // Untouched: still there, same ETag (la-uploader deletes what it uploaded).
    assert.equal((await victim.getBlobClient(STAGED_NAME).getProperties()).etag, before.staged);
    assert.equal((await victim.getBlobClient('AuthEvents-victim.json').getProperties()).etag, before.request);
    assert.ok(await blobs().getContainerClient(e.dataContainer).getBlobClient(STAGED_NAME).exists());
    // Nowhere: not in Log Analytics, not in ADX, nothing staged, no container made from a key.
    const sink = stack.logsIngestion.streams().flatMap((s) => stack.logsIngestion.records(s));
    assert.ok(!JSON.stringify(sink).includes(MARKER), 'victim records reached Log Analytics');
    assert.ok(!JSON.stringify(stack.adx.tables()).includes(MARKER), 'victim records reached ADX');
    assert.equal(stack.adx.ingestions().length, 0);
    const staged = [];
    for await (const b of blobs().getContainerClient(e.stagingContainer).listBlobsFlat()) staged.push(b.name);
    assert.deepEqual(staged, []);
    const containers = [];
    for await (const c of blobs().listContainers()) containers.push(c.name);
    assert.ok(!containers.includes('2024'), `containers: ${containers.join(', ')}`);
  });

  it('delivers the good records of an object holding a record nested 100,000 levels deep, counting that one as bad, without a retry', async () => {
    const e = stack.endpoints;
    const marker = `DEEP-${randomUUID()}`;
    const goodRecords = [1, 2, 3].map((i) => ({ TimeGenerated: '2024-01-02T00:00:00Z', UserId: marker, Seq: i }));
    // With TimeGenerated the deep record would have to be re-serialized: JSON.stringify overflows the stack.
    const deep = `{"TimeGenerated":"2024-01-02T00:00:00Z","UserId":"${marker}","d":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const deadBefore = stack.serviceBus.deadLetters('s3-objects', 's3-fetcher').length;
    const lines = [
      JSON.stringify(goodRecords[0]),
      deep,
      JSON.stringify(goodRecords[1]),
      JSON.stringify(goodRecords[2]),
    ];
    const put = await stack.fauxqs
      .s3()
      .send(new PutObjectCommand({ Bucket: e.bucket, Key: 'deep.ndjson', Body: `${lines.join('\n')}\n` }));
    await transport.publish('s3-objects', [
      { ...s3Object('s3-deep', e.bucket, 'deep.ndjson'), etag: (put.ETag ?? '').replaceAll('"', '') },
    ]);
    const delivered = () =>
      stack.logsIngestion
        .streams()
        .flatMap((s) => stack.logsIngestion.records(s))
        .filter((r) => JSON.stringify(r).includes(marker));
    await waitUntil("the deep object's good records", () => delivered().length >= goodRecords.length, {
      timeoutMs: 60_000,
      intervalMs: 100,
      diagnostics: () =>
        `sink holds ${delivered().length} of the deep object's good records\n${services.map((p) => p.output().split('\n').slice(-5).join('\n')).join('\n')}`,
    });
    assert.deepEqual(
      delivered()
        .map((r) => (r as { Seq: number }).Seq)
        .sort(),
      [1, 2, 3],
    );
    const fetcher = services.find((p) => p.name === 's3-fetcher')!;
    await fetcher.waitForLog(/"reason":"TooDeep".*skipped a record/, 5_000);
    const table = TableClient.fromConnectionString(e.storageConnectionString, e.statusTable, {
      allowInsecureConnection: true,
    });
    let row: Record<string, unknown> | undefined;
    await waitUntil(
      'a staged status row for deep.ndjson',
      async () => {
        for await (const entity of table.listEntities()) {
          if (String(entity.objectId ?? '').includes('deep.ndjson') && entity.state === 'staged') row = entity;
        }
        return row !== undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    assert.equal(row?.badRecords, 1, JSON.stringify(row));
    assert.equal(row?.recordCount, 3, JSON.stringify(row));
    // Staged on its first delivery: completed with no retry copy scheduled, nothing more was dead-lettered.
    const records = stack.serviceBus.records;
    const ofDeep = (r: { body: unknown }) => (r.body as { id?: string } | null)?.id === 's3-deep';
    await records.waitFor((r) => r.kind === 'settlement' && ofDeep(r), 10_000);
    assert.deepEqual(
      records
        .published('s3-objects')
        .filter(ofDeep)
        .map((p) => p.retryFor),
      [undefined],
      'published once, no retry copy',
    );
    assert.deepEqual(
      records
        .settlements('s3-objects', 's3-fetcher')
        .filter(ofDeep)
        .map((d) => d.outcome),
      ['complete'],
    );
    assert.equal(stack.serviceBus.deadLetters('s3-objects', 's3-fetcher').length, deadBefore);
  });
});
