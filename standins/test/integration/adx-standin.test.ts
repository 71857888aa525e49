import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { BlobSASPermissions, BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { Client as KustoClient, KustoConnectionStringBuilder } from 'azure-kusto-data';
import {
  BlobDescriptor,
  DataFormat,
  IngestClient,
  IngestionMappingKind,
  IngestionProperties,
  ReportLevel,
  ReportMethod,
} from 'azure-kusto-ingest';
import { type AdxStandIn, startAdxStandIn } from '../../src/adx/index.ts';

const FLOWS_CSV =
  'TimeGenerated,SrcIp,DstIp,SrcPort,DstPort,Protocol,Bytes,Packets,Action\n' +
  '2024-05-01T10:00:00Z,10.0.0.5,192.0.2.10,51514,443,TCP,1840,12,Allow\n' +
  '2024-05-01T10:00:01Z,10.0.0.6,198.51.100.7,53001,53,UDP,92,1,"Deny, logged"\n';

describe('ADX stand-in with the real azure-kusto-ingest client', () => {
  let azurite: AzuriteHandle;
  let adx: AdxStandIn;
  let container: ContainerClient;
  let ingest: IngestClient;

  before(async () => {
    azurite = await startAzurite();
    adx = await startAdxStandIn({ storageConnectionString: azurite.connectionString, pollIntervalMs: 50 });
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('data');
    await container.create();
    ingest = new IngestClient(new KustoConnectionStringBuilder(adx.endpoint), { database: 'logs' });
  });
  after(async () => {
    ingest?.close();
    await adx?.close();
    await azurite?.stop();
  });

  async function upload(name: string, body: string | Buffer): Promise<{ url: string; size: number }> {
    const blob = container.getBlockBlobClient(name);
    await blob.upload(body, Buffer.byteLength(body));
    const url = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse('r'),
      expiresOn: new Date(Date.now() + 3600_000),
    });
    return { url, size: Buffer.byteLength(body) };
  }

  function props(table: string, format: DataFormat, mapping: string, extra: Partial<IngestionProperties> = {}) {
    return new IngestionProperties({
      database: 'logs',
      table,
      format,
      ingestionMappingReference: mapping,
      reportLevel: ReportLevel.FailuresAndSuccesses,
      reportMethod: ReportMethod.Queue,
      additionalProperties: {},
      ...extra,
    });
  }

  async function reports(queue: string): Promise<Record<string, unknown>[]> {
    const client = QueueServiceClient.fromConnectionString(azurite.connectionString).getQueueClient(queue);
    const { receivedMessageItems } = await client.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 1 });
    return receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')));
  }

  it('ingests a CSV with its header skipped through the mapping and posts a success report', async () => {
    const { url, size } = await upload('TrafficFlows-2024 05+01#a.csv', FLOWS_CSV);
    const sourceId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(url, size, sourceId),
      props('TrafficFlows', DataFormat.CSV, 'TrafficFlows_csv_mapping', {
        ingestionMappingKind: IngestionMappingKind.CSV,
        ignoreFirstRecord: true,
      }),
    );
    const done = await adx.waitForIngestion((r) => r.sourceId === sourceId);
    assert.equal(done.outcome, 'succeeded');
    assert.equal(done.blobName, 'TrafficFlows-2024 05+01#a.csv');
    assert.deepEqual(adx.rows('TrafficFlows'), [
      {
        TimeGenerated: '2024-05-01T10:00:00.000Z',
        SrcIp: '10.0.0.5',
        DstIp: '192.0.2.10',
        SrcPort: 51514,
        DstPort: 443,
        Protocol: 'TCP',
        Bytes: 1840,
        Packets: 12,
        Action: 'Allow',
      },
      {
        TimeGenerated: '2024-05-01T10:00:01.000Z',
        SrcIp: '10.0.0.6',
        DstIp: '198.51.100.7',
        SrcPort: 53001,
        DstPort: 53,
        Protocol: 'UDP',
        Bytes: 92,
        Packets: 1,
        Action: 'Deny, logged',
      },
    ]);
    const [report] = await reports(adx.names.successQueue);
    assert.equal(report?.IngestionSourceId, sourceId);
    assert.equal(report?.Table, 'TrafficFlows');
    assert.equal(report?.Database, 'logs');
    assert.ok(typeof report?.SucceededOn === 'string');
    assert.ok(!String(report?.IngestionSourcePath).includes('sig='), 'the SAS is not echoed');
  });

  it('answers queries through azure-kusto-data (v1 and v2)', async () => {
    const client = new KustoClient(new KustoConnectionStringBuilder(adx.endpoint));
    try {
      const v2 = await client.execute('logs', 'TrafficFlows | count');
      assert.equal(v2.primaryResults[0]?.toJSON().data[0]?.Count, 2);
      const v1 = await client.executeQueryV1('logs', 'TrafficFlows | take 1');
      assert.equal(v1.primaryResults[0]?.toJSON().data[0]?.SrcIp, '10.0.0.5');
      await client.execute('logs', '.create-merge table Extra (A: string, B: long)');
      await client.execute(
        'logs',
        `.create table Extra ingestion csv mapping "m1" '[{"column":"B","Properties":{"Ordinal":"0"}}]'`,
      );
      const tables = await client.execute('logs', '.show tables');
      assert.ok([...tables.primaryResults[0]!.rows()].some((r) => r.toJSON().TableName === 'Extra'));
      await assert.rejects(client.execute('logs', '.drop database logs'), /400/);
      await assert.rejects(client.execute('logs', 'Missing | count'), /400/);
    } finally {
      client.close();
    }
  });

  it('ingests JSON lines and gzip multijson read with ADX managed identity', async () => {
    const json = await upload(
      'AuthEvents-1.json',
      `${JSON.stringify({ time: '2024-05-01T10:00:00Z', user: { upn: 'a@x.test' }, result: 'Success', client: { ip: '10.1.1.1' }, app: 'portal', details: { mfa: true } })}\n`,
    );
    const jsonId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(json.url, json.size, jsonId),
      props('AuthEvents', DataFormat.JSON, 'AuthEvents_json_mapping'),
    );
    const dns = gzipSync(
      '{"ts":"2024-05-01T10:00:00Z","client":"10.0.0.5","query":{"name":"example.com","type":"A"},"rcode":"NOERROR","answers":["93.184.216.34"]}\n' +
        '{\n  "ts": "2024-05-01T10:00:02Z",\n  "client": "10.0.0.6",\n  "query": {"name": "bad.test", "type": "AAAA"},\n  "rcode": "NXDOMAIN"\n}',
    );
    const blob = container.getBlockBlobClient('DnsQueries-1.json.gz');
    await blob.upload(dns, dns.length);
    const dnsId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(`${blob.url};managed_identity=system`, dns.length, dnsId),
      props('DnsQueries', DataFormat.MULTIJSON, 'DnsQueries_json_mapping'),
    );
    assert.equal((await adx.waitForIngestion((r) => r.sourceId === jsonId)).outcome, 'succeeded');
    assert.equal((await adx.waitForIngestion((r) => r.sourceId === dnsId)).outcome, 'succeeded');
    assert.deepEqual(adx.rows('AuthEvents'), [
      {
        TimeGenerated: '2024-05-01T10:00:00.000Z',
        UserPrincipalName: 'a@x.test',
        Result: 'Success',
        SrcIp: '10.1.1.1',
        Application: 'portal',
        Details: { mfa: true },
      },
    ]);
    assert.deepEqual(
      adx.rows('DnsQueries').map((r) => [r.QueryName, r.ResponseCode, r.Answers]),
      [
        ['example.com', 'NOERROR', ['93.184.216.34']],
        ['bad.test', 'NXDOMAIN', null],
      ],
    );
  });

  it('reports a malformed CSV as a permanent failure and an injected fault as transient', async () => {
    const bad = await upload('TrafficFlows-bad.csv', 'TimeGenerated,SrcIp\n2024-05-01T10:00:00Z,10.0.0.5,extra\n');
    const badId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(bad.url, bad.size, badId),
      props('TrafficFlows', DataFormat.CSV, 'TrafficFlows_csv_mapping', { reportLevel: ReportLevel.FailuresOnly }),
    );
    adx.setFaults({ transient: { match: /^TrafficFlows-flaky/ } });
    const flaky = await upload('TrafficFlows-flaky.csv', FLOWS_CSV);
    const flakyId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(flaky.url, flaky.size, flakyId),
      props('TrafficFlows', DataFormat.CSV, 'TrafficFlows_csv_mapping', { ignoreFirstRecord: true }),
    );
    const missing = await upload('TrafficFlows-nomap.csv', FLOWS_CSV);
    const missingId = randomUUID();
    await ingest.ingestFromBlob(
      new BlobDescriptor(missing.url, missing.size, missingId),
      props('TrafficFlows', DataFormat.CSV, 'nope'),
    );
    for (const id of [badId, flakyId, missingId]) await adx.waitForIngestion((r) => r.sourceId === id);
    adx.setFaults({});
    const failures = await reports(adx.names.failureQueue);
    const byId = new Map(failures.map((f) => [f.IngestionSourceId, f]));
    assert.equal(byId.get(badId)?.ErrorCode, 'Stream_WrongNumberOfFields');
    assert.equal(byId.get(badId)?.FailureStatus, 'Permanent');
    assert.equal(byId.get(badId)?.ShouldRetry, false);
    assert.ok(typeof byId.get(badId)?.FailedOn === 'string');
    assert.equal(byId.get(flakyId)?.FailureStatus, 'Transient');
    assert.equal(byId.get(flakyId)?.ShouldRetry, true);
    assert.equal(byId.get(missingId)?.ErrorCode, 'BadRequest_MappingReferenceWasNotFound');
    assert.equal(adx.rows('TrafficFlows').length, 2, 'failed blobs add no rows');
  });

  it('answers GET /stand-in/tables with the rows of every table, read-only', async () => {
    const res = await fetch(`${adx.endpoint}/stand-in/tables`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const { tables } = (await res.json()) as { tables: { table: string; rows: number }[] };
    const expected = Object.entries(adx.tables())
      .map(([table, rows]) => ({ table, rows: rows.length }))
      .sort((a, b) => (a.table < b.table ? -1 : 1));
    assert.deepEqual(tables, expected);
    assert.ok(tables.some((t) => t.table === 'AuthEvents' && t.rows === 1));
    assert.ok(tables.some((t) => t.table === 'TrafficFlows' && t.rows === 2));
    assert.ok(
      tables.some((t) => t.rows === 0),
      'tables nothing reached are listed with 0 rows',
    );
    assert.equal((await fetch(`${adx.endpoint}/stand-in/tables`, { method: 'POST' })).status, 404);
  });
});
