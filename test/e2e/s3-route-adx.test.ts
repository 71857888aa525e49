// An S3 route to ADX, as a user sets it up: a routes file whose route says `adx: true` (and a Logs Ingestion
// stream), its mappings.json entry, and all five services of that path as processes. s3-fetcher stages the
// object's batch once; la-uploader uploads it to the stream, adx-ingester ingests the same staged blob as
// multijson and completion-checker settles it. Each sink gets every record exactly once, the batch's status rows
// settle, and the staged blob is kept for the lifecycle rule (la-uploader does not delete what ADX also reads).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { BatchStatusStore } from '@logferry/shared/stores/batch-status';
import { BlobStatusStore } from '@logferry/shared/stores/blob-status';
import { waitUntil } from '@logferry/shared/testing/wait';
import { type ServiceProcess, s3Notification, startServiceProcess } from '@logferry/standins';
import { type Flow, startFlow } from '../src/s3-flow.ts';
import {
  canonical,
  describeDiff,
  diffRecords,
  expectedRecordKey,
  multiset,
  type Rec,
  sinkMultiset,
} from '../src/s3-records.ts';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const BUCKET = 'code42-logs';
// The route's name is its source name, and so the mappings.json entry adx-ingester ingests it with (DnsQueries:
// multijson, the paths of deploy/adx/DnsQueries.kql).
const SOURCE = 'DnsQueries';
const STREAM = 'Custom-DnsQueries_CL';
const KEY = 'dns/2026/03/01/resolver-0.json.gz';
const RECORDS = 60;

function dnsRecords(count: number): Rec[] {
  return Array.from({ length: count }, (_, i) => ({
    ts: new Date(NOW.getTime() - i * 1000).toISOString(),
    client: `10.0.${Math.floor(i / 250)}.${i % 250}`,
    query: { name: `host-${i}.example.com`, type: i % 3 === 0 ? 'AAAA' : 'A' },
    rcode: i % 7 === 0 ? 'NXDOMAIN' : 'NOERROR',
    answers: i % 7 === 0 ? [] : [`192.0.2.${i % 250}`],
  }));
}

/** A record as the DnsQueries mapping puts it in its table's columns. */
const asAdxRow = (r: Rec) => {
  const query = r.query as { name: string; type: string };
  return canonical({
    TimeGenerated: r.ts,
    ClientIp: r.client,
    QueryName: query.name,
    QueryType: query.type,
    ResponseCode: r.rcode,
    Answers: r.answers,
  });
};

describe('an S3 route to ADX and Log Analytics: one staged batch, both readers', () => {
  let dir: string;
  let flow: Flow;
  const adxServices: ServiceProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'logferry-s3-adx-'));
    const routesFile = join(dir, 'routes.json');
    await writeFile(
      routesFile,
      JSON.stringify({
        [SOURCE]: {
          match: { bucket: BUCKET, prefix: 'dns/' },
          format: 'ndjson',
          timeField: 'ts',
          timeFormat: 'iso8601',
          logsIngestion: { stream: STREAM },
          adx: true,
        },
      }),
    );
    flow = await startFlow({ routesFile });
    for (const name of ['adx-ingester', 'completion-checker'] as const) {
      adxServices.push(await startServiceProcess(name, flow.stack.serviceEnv(name), { logDir: flow.stack.logDir }));
    }
    await Promise.all(adxServices.map((p) => p.waitForReady(60_000)));
  });
  after(async () => {
    await Promise.all(adxServices.map((p) => p.stop('SIGTERM', 10_000).catch(() => undefined)));
    await flow?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('lands every record in the stream and in the ADX table once, settles the batch and keeps its blob', async () => {
    const e = flow.stack.endpoints;
    assert.equal(e.bucket, BUCKET);
    const records = dnsRecords(RECORDS);
    const body = gzipSync(`${records.map((r) => JSON.stringify(r)).join('\n')}\n`);
    const put = await flow.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: body }));
    const note = s3Notification({ bucket: BUCKET, region: e.aws.region }, KEY, body.length, put.ETag ?? '', NOW);
    await flow.sqs.send(new SendMessageCommand({ QueueUrl: e.sqsQueueUrl, MessageBody: JSON.stringify(note) }));

    const table = TableClient.fromConnectionString(e.storageConnectionString, e.statusTable, {
      allowInsecureConnection: true,
    });
    const blobRows = new BlobStatusStore(table);
    const bus = flow.stack.serviceBus;
    const staged = () => bus.records.published('staged-batches').map((p) => p.body as Rec);
    const idle = (topic: string, sub: string) => {
      const c = bus.counts(topic, sub);
      return c.active + c.locked + c.scheduled === 0;
    };
    await waitUntil(
      'both sinks to hold the records',
      async () => {
        const batch = staged()[0];
        if (!batch) return false;
        const row = await blobRows.get(String(batch.blobContainer), String(batch.blobName));
        return (
          row?.status === 'succeeded' &&
          flow.stack.logsIngestion.stats(STREAM).recordCount >= RECORDS &&
          idle('s3-objects', 's3-fetcher') &&
          idle('staged-batches', 'la-uploader') &&
          idle('staged-batches', 'adx-ingester')
        );
      },
      {
        timeoutMs: 120_000,
        intervalMs: 100,
        diagnostics: () =>
          `stream ${flow.stack.logsIngestion.stats(STREAM).recordCount}/${RECORDS}, ADX ${flow.stack.adx.rows(SOURCE).length}, ` +
          `staged ${staged().length}\n` +
          [...Object.values(flow.services), ...adxServices]
            .map((p) => p.output().split('\n').slice(-6).join('\n'))
            .join('\n---\n'),
      },
    );

    // One staged batch, published once, read by both: the message says so (adxReads).
    const batches = staged();
    assert.equal(batches.length, 1, 'the object was staged as one batch, once');
    const [batch] = batches as [Rec];
    assert.equal(batch.source, SOURCE);
    assert.equal(batch.adxReads, true);
    assert.equal(batch.recordCount, RECORDS);

    // Log Analytics: exactly the object's records, in the route's stream, and nowhere else.
    const received = sinkMultiset(flow.stack.logsIngestion.records(STREAM));
    const diff = diffRecords(multiset(records.map((r) => expectedRecordKey(BUCKET, KEY, r))), received.set);
    assert.deepEqual(received.problems, []);
    assert.equal(diff.missing + diff.unexpected + diff.duplicates, 0, describeDiff(diff));
    assert.deepEqual(flow.stack.logsIngestion.streams(), [STREAM]);

    // ADX: the same records in the mapping's columns, each once (the stand-in ingested the blob once).
    const adxRows = flow.stack.adx
      .rows(SOURCE)
      .map((row) => canonical({ ...row, TimeGenerated: new Date(String(row.TimeGenerated)).toISOString() }));
    const adxDiff = diffRecords(multiset(records.map(asAdxRow)), multiset(adxRows));
    assert.equal(adxDiff.missing + adxDiff.unexpected + adxDiff.duplicates, 0, describeDiff(adxDiff));
    const ingestions = flow.stack.adx.ingestions().filter((i) => i.table === SOURCE);
    assert.deepEqual(
      ingestions.map((i) => [i.outcome, i.rows]),
      [['succeeded', RECORDS]],
      'ADX ingested the staged blob once, all of it',
    );

    // The status rows a user checks: the staged blob's row settled as multijson in one attempt, the batch uploaded.
    const blobRow = await blobRows.get(String(batch.blobContainer), String(batch.blobName));
    assert.equal(blobRow?.status, 'succeeded');
    assert.equal(blobRow?.format, 'multijson');
    assert.equal(blobRow?.table, SOURCE);
    assert.equal(blobRow?.attempts, 1);
    const labatch = await new BatchStatusStore(table).get(String(batch.id));
    assert.equal(labatch?.status, 'uploaded');
    assert.equal(labatch?.records, RECORDS);
    assert.equal(labatch?.stream, STREAM);

    // Both readers are done and the blob is still there: la-uploader leaves it to the staging lifecycle rule.
    const stagedBlob = BlobServiceClient.fromConnectionString(e.storageConnectionString)
      .getContainerClient(String(batch.blobContainer))
      .getBlobClient(String(batch.blobName));
    assert.equal(await stagedBlob.exists(), true, 'the staged blob is kept while ADX reads it too');

    // Nothing dead-lettered on the way, on any subscription of the path.
    for (const [topic, sub] of [
      ['s3-objects', 's3-fetcher'],
      ['staged-batches', 'la-uploader'],
      ['staged-batches', 'adx-ingester'],
    ] as const) {
      assert.deepEqual(bus.deadLetters(topic, sub), [], `${topic}/${sub}`);
    }
  });
});
