import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { StagedBatchMessage } from '@logferry/shared';
import { BatchClaims } from '@logferry/shared/stores/batch-claim';
import { encodeRowKey } from '@logferry/shared/stores/row-key';
import type { LogsIngestionClient } from '../../src/logs-ingestion-client.ts';
import { assertSameMultiset, describeHandler, events, STREAM } from './handler-fixture.ts';

/** A `labatch` row as la-uploader wrote it before the claim moved into it: progress, no claim fields. */
function labatchRow(msg: StagedBatchMessage, progress: { uploadedRanges: string; requests: number }) {
  return {
    partitionKey: 'labatch',
    rowKey: encodeRowKey(msg.id),
    batchId: msg.id,
    status: 'partial',
    records: msg.recordCount,
    stream: STREAM,
    objectId: msg.objectId,
    blobName: msg.blobName,
    updatedAt: new Date().toISOString(),
    ...progress,
  };
}

describeHandler('duplicates, claims and resumes', (s) => {
  it('skips a duplicate delivery of an uploaded batch', async () => {
    const msg = await s.stage(events(20, 'dup'));
    assert.equal((await s.deliver(msg)).kind, 'success');
    assert.equal((await s.deliver(msg)).kind, 'success');
    assert.equal(s.standIn.records(STREAM).length, 20);
    assert.equal(s.standIn.requests(STREAM), 1);
  });

  it('two deliveries of the same batch at once: one uploads, the other retries after the claim, records once', async () => {
    const records = events(300, 'twice');
    const msg = await s.stage(records);
    // The sink holds the winner's request until the other delivery has answered, so the two overlap however
    // the scheduler orders them (without the hold, the first could finish before the second starts).
    let release = () => {};
    const hold = new Promise<void>((resolve) => (release = resolve));
    const held: Pick<LogsIngestionClient, 'upload'> = {
      upload: async (body, signal) => {
        await hold;
        return s.client.upload(body, signal);
      },
    };
    const deliveries = [s.deliver(msg, { client: held }), s.deliver(msg, { client: held })];
    await Promise.race([...deliveries, new Promise((r) => setTimeout(r, 10_000))]);
    release();
    const both = await Promise.all(deliveries);
    const kinds = both.map((o) => o.kind).sort();
    assert.deepEqual(kinds, ['retryLater', 'success'], JSON.stringify(both));
    const waiting = both.find((o) => o.kind === 'retryLater');
    assert.equal(waiting?.kind === 'retryLater' ? waiting.code : '', 'InFlightElsewhere');
    assert.ok(waiting?.kind === 'retryLater' && (waiting.delayMs ?? 0) > 0, 'waits for the claim, not at once');
    // Its redelivery finds the batch uploaded.
    assert.deepEqual(await s.deliver(msg), { kind: 'success' });
    assertSameMultiset(s.standIn.records(STREAM), records);
    assert.equal(s.standIn.requests(STREAM), 1);
  });

  it('a claim left by an uploader killed mid-batch expires after the lease; the next resumes after its ranges', async () => {
    const records = events(10, 'crashed');
    const msg = await s.stage(records);
    // What a SIGKILLed holder leaves after its first request: the batch's row with its progress and a claim
    // no longer renewed.
    await s.table.createEntity({
      ...labatchRow(msg, { uploadedRanges: '0-4', requests: 1 }),
      claimOwner: 'crashed',
      claimExpiresAt: new Date(Date.now() + 1_000).toISOString(),
    });
    const first = await s.deliver(msg);
    assert.equal(first.kind === 'retryLater' && first.code, 'InFlightElsewhere');
    assert.ok(first.kind === 'retryLater' && (first.delayMs ?? 0) <= 1_000, 'waits only for the rest of the lease');
    await new Promise((r) => setTimeout(r, 1_100));
    assert.deepEqual(await s.deliver(msg), { kind: 'success' });
    assertSameMultiset(s.standIn.records(STREAM), records.slice(4));
    const row = await s.status.get(msg.id);
    assert.equal(row?.status, 'uploaded');
    assert.equal(row?.requests, 2);
  });

  it('resumes a half-uploaded batch from a row written before the claim moved into it (upgrade in place)', async () => {
    const records = events(10, 'old-row');
    const msg = await s.stage(records);
    await s.table.createEntity(labatchRow(msg, { uploadedRanges: '0-6', requests: 1 }));
    assert.deepEqual(await s.deliver(msg), { kind: 'success' });
    assertSameMultiset(s.standIn.records(STREAM), records.slice(6));
    assert.equal((await s.status.get(msg.id))?.status, 'uploaded');
  });

  it('renews the claim while a slow upload runs, so a second delivery waits instead of uploading', async () => {
    const records = events(20, 'slow');
    const msg = await s.stage(records);
    const shortLease = new BatchClaims(s.table, { leaseMs: 1_200, owner: 'slow' });
    const slow: Pick<LogsIngestionClient, 'upload'> = {
      upload: async (body, signal) => {
        await new Promise((r) => setTimeout(r, 2_500));
        return s.client.upload(body, signal);
      },
    };
    const first = s.deliver(msg, { claims: shortLease, client: slow });
    await new Promise((r) => setTimeout(r, 1_800));
    const second = await s.deliver(msg, { claims: shortLease });
    assert.equal(second.kind === 'retryLater' && second.code, 'InFlightElsewhere', 'renewed past its first lease');
    assert.deepEqual(await first, { kind: 'success' });
    assertSameMultiset(s.standIn.records(STREAM), records);
  });

  it('stops before its next request once another delivery took the batch over', async () => {
    const records = events(300, 'taken');
    const msg = await s.stage(records);
    let calls = 0;
    const stealAfterFirst: Pick<LogsIngestionClient, 'upload'> = {
      upload: async (body, signal) => {
        const answer = await s.client.upload(body, signal);
        // As a takeover after a lapsed lease does: the row replaced under the holder, with the new holder's claim.
        if (++calls === 1) {
          await s.table.upsertEntity(
            {
              ...labatchRow(msg, { uploadedRanges: '', requests: 0 }),
              claimOwner: 'thief',
              claimExpiresAt: new Date(Date.now() + 60_000).toISOString(),
            },
            'Replace',
          );
        }
        return answer;
      },
    };
    const small = { ...s.deps.policy, maxRequestBytes: 12_000 };
    const result = await s.deliver(msg, { client: stealAfterFirst, policy: small });
    assert.equal(result.kind === 'retryLater' && result.code, 'ClaimLost', JSON.stringify(result));
    assert.equal(s.standIn.requests(STREAM), 1, 'no request after the claim was lost');
    const row = await s.table.getEntity<{ claimOwner?: string }>('labatch', encodeRowKey(msg.id));
    assert.equal(row.claimOwner, 'thief', "the new holder's claim stands");
  });

  it('resumes a half-uploaded batch without sending its first part again', async () => {
    const records = events(300, 'resume');
    const msg = await s.stage(records);
    let calls = 0;
    const faultAfterFirst: Pick<LogsIngestionClient, 'upload'> = {
      upload: async (body, signal) => {
        const answer = await s.client.upload(body, signal);
        calls += 1;
        if (calls === 1) s.standIn.setFaults([{ stream: STREAM, status: 503, count: 1 }]);
        return answer;
      },
    };
    const small = { ...s.deps.policy, maxRequestBytes: 12_000, inlineRetryMs: 0 };
    const first = await s.deliver(msg, { client: faultAfterFirst, policy: small });
    assert.equal(first.kind, 'retryLater');
    const partial = await s.status.get(msg.id);
    assert.equal(partial?.status, 'partial');
    assert.equal(await s.blobExists(msg), true);
    assert.equal((await s.deliver(msg, { policy: small })).kind, 'success');
    assertSameMultiset(s.standIn.records(STREAM), records);
    assert.equal((await s.status.get(msg.id))?.status, 'uploaded');
  });
});
