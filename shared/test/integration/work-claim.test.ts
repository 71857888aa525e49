import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TableClient } from '@azure/data-tables';
import { WorkClaims } from '../../src/stores/work-claim.ts';
import { type AzuriteHandle, startAzurite } from '../../src/testing/index.ts';

describe('WorkClaims on Azurite', () => {
  let azurite: AzuriteHandle;
  let table: TableClient;
  let clock = Date.parse('2030-01-01T00:00:00.000Z');
  const claims = (owner: string, leaseMs = 10_000) =>
    new WorkClaims(table, { scope: 'test', leaseMs, owner, now: () => clock });

  before(async () => {
    azurite = await startAzurite();
    table = TableClient.fromConnectionString(azurite.connectionString, 'claims', { allowInsecureConnection: true });
    await table.createTable();
  });
  after(() => azurite.stop());

  it('of two workers claiming the same key at once, exactly one wins; the other learns when it expires', async () => {
    for (let i = 0; i < 5; i++) {
      const key = `bucket/a key+with#odd?chars@v${i}`;
      const results = await Promise.all([claims('a').acquire(key), claims('b').acquire(key), claims('c').acquire(key)]);
      const won = results.filter((r) => r.kind === 'claimed');
      assert.equal(won.length, 1, JSON.stringify(results.map((r) => r.kind)));
      for (const r of results) {
        if (r.kind === 'busy') {
          assert.ok(['a', 'b', 'c'].includes(r.holder));
          assert.equal(r.retryInMs, 10_000);
        }
      }
      for (const r of won) if (r.kind === 'claimed') await r.claim.release();
    }
  });

  it('a released claim can be taken at once', async () => {
    const first = await claims('a').acquire('released');
    assert.equal(first.kind, 'claimed');
    assert.equal((await claims('b').acquire('released')).kind, 'busy');
    if (first.kind === 'claimed') await first.claim.release();
    const second = await claims('b').acquire('released');
    assert.equal(second.kind, 'claimed');
    if (second.kind === 'claimed') await second.claim.release();
  });

  it("a crashed worker's claim expires after the lease and one of the waiting workers takes it over", async () => {
    const crashed = await claims('crashed').acquire('stale');
    assert.equal(crashed.kind, 'claimed');
    clock += 9_999;
    assert.equal((await claims('b').acquire('stale')).kind, 'busy');
    clock += 2;
    const takeovers = await Promise.all([claims('b').acquire('stale'), claims('c').acquire('stale')]);
    assert.equal(takeovers.filter((r) => r.kind === 'claimed').length, 1, JSON.stringify(takeovers));
    // The crashed holder's late release must not free the new holder's claim.
    if (crashed.kind === 'claimed') await crashed.claim.release();
    assert.equal((await claims('d').acquire('stale')).kind, 'busy');
    for (const r of takeovers) if (r.kind === 'claimed') await r.claim.release();
  });

  it('renews a held claim while the work runs, and notices when it was taken over', async () => {
    const realClock = new WorkClaims(table, { scope: 'renew', leaseMs: 1_200, owner: 'a' });
    const held = await realClock.acquire('long');
    assert.equal(held.kind, 'claimed');
    await new Promise((r) => setTimeout(r, 2_000));
    const other = await new WorkClaims(table, { scope: 'renew', leaseMs: 1_200, owner: 'b' }).acquire('long');
    assert.equal(other.kind, 'busy', 'renewals kept it past its first lease');
    if (held.kind === 'claimed') {
      assert.equal(held.claim.held, true);
      // Steal it the way an expired-claim takeover would: replace the row under the holder.
      await table.upsertEntity(
        {
          partitionKey: 'claim-renew',
          rowKey: 'long',
          owner: 'thief',
          token: 'x',
          expiresAt: new Date(Date.now() + 60_000).toISOString(),
        },
        'Replace',
      );
      await new Promise((r) => setTimeout(r, 900));
      assert.equal(held.claim.held, false, 'the next renewal found the claim gone');
      await held.claim.release();
    }
    const thief = await table.getEntity<{ owner: string }>('claim-renew', 'long');
    assert.equal(thief.owner, 'thief', 'a holder that lost its claim does not delete the new one');
  });
});
