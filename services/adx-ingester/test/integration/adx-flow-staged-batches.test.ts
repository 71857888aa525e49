import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { stageJsonArrayBatch, stageNdjsonBatch, waitUntil } from '@logferry/shared/testing';
import { type AdxFlow, startAdxFlow } from '../support/adx-flow-fixture.ts';

describe('adx-ingester and completion-checker on Azurite and the ADX stand-in: staged batches from s3-fetcher', () => {
  let flow: AdxFlow;
  before(async () => {
    flow = await startAdxFlow();
  });
  after(async () => {
    await flow?.close();
  });

  it('staged batches: a source routed by mappings.json goes to ADX, others are left to la-uploader', async () => {
    const container = BlobServiceClient.fromConnectionString(flow.azurite.connectionString).getContainerClient(
      'staging',
    );
    await container.createIfNotExists();
    const queries = [
      { ts: '2024-05-01T10:00:00Z', query: { name: 'staged.test' } },
      { ts: '2024-05-01T10:00:01Z', query: { name: 'staged2.test' } },
    ];
    const batch = (source: string, objectId: string) => ({ objectId, batchIndex: 0, source, records: queries });
    // The checker's reader polls ADX's status queues until the row is settled by the report.
    const ingested = (blobName: string) =>
      waitUntil(`${blobName} succeeded`, async () => {
        const row = await flow.store.get('staging', blobName);
        if (row?.status === 'succeeded') return row;
        await flow.reader.pollOnce();
        return undefined;
      });
    // As s3-fetcher stages it now (v2: one gzip JSON array), for a multijson entry.
    const dns = await stageJsonArrayBatch(container, batch('DnsQueries', 'bucket/dns.json@v1'));
    const unrouted = await stageJsonArrayBatch(container, batch('Code42FileEvents', 'bucket/c42.json@v1'));
    assert.equal((await flow.handleBatch(unrouted)).kind, 'success');
    assert.equal(await flow.store.get('staging', unrouted.blobName), undefined, 'not routed: no row');
    assert.equal((await flow.handleBatch(dns)).kind, 'success');
    assert.equal((await ingested(dns.blobName))?.status, 'succeeded');
    assert.ok(flow.adx.rows('DnsQueries').some((r) => r.QueryName === 'staged2.test'));

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
    assert.equal((await flow.handleBatch(authBatch)).kind, 'success');
    const authRow = await ingested(authBatch.blobName);
    assert.equal(authRow?.status, 'succeeded');
    assert.equal(authRow?.format, 'multijson');
    const upns = flow.adx.rows('AuthEvents').map((r) => r.UserPrincipalName);
    assert.ok(upns.includes('staged-a@example.com') && upns.includes('staged-b@example.com'), JSON.stringify(upns));

    // A v1 batch (gzip NDJSON) still in flight after the upgrade is ingested as its entry says.
    const legacy = await stageNdjsonBatch(container, {
      objectId: 'bucket/auth-v1@v1',
      batchIndex: 0,
      source: 'AuthEvents',
      records: [{ ...auth[0], user: { upn: 'legacy@example.com' } }],
    });
    assert.equal((await flow.handleBatch(legacy)).kind, 'success');
    const legacyRow = await ingested(legacy.blobName);
    assert.equal(legacyRow?.status, 'succeeded');
    assert.equal(legacyRow?.format, 'json');
    assert.ok(flow.adx.rows('AuthEvents').some((r) => r.UserPrincipalName === 'legacy@example.com'));

    const missing = await flow.handleBatch({ ...dns, blobName: 'DnsQueries/gone.json.gz' });
    assert.equal(missing.kind, 'deadLetter');
  });
});
