import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { LeaderLease } from '../../src/lifecycle/leader-lease.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { type AzuriteHandle, startAzurite } from '../../src/testing/azurite.ts';
import { waitUntil } from '../../src/testing/wait.ts';

const logger = createLogger('leader-lease-test', { level: 'silent' });

describe('LeaderLease (blob lease on Azurite)', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('elects exactly one of several replicas, and hands over when the holder stops', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('locks');
    const make = () =>
      new LeaderLease({
        container,
        blobName: 'election',
        logger,
        role: 'test leadership',
        durationSec: 15,
        intervalMs: 100,
      });
    const replicas = [make(), make(), make()];
    try {
      for (const r of replicas) r.start();
      await Promise.all(replicas.map((r) => r.settled()));
      await waitUntil('a replica to hold the lease', () => replicas.some((r) => r.held), { intervalMs: 50 });
      assert.equal(replicas.filter((r) => r.held).length, 1);

      const holder = replicas.find((r) => r.held)!;
      await holder.stop();
      assert.equal(holder.held, false, 'a stopped replica no longer claims the lease');
      const rest = replicas.filter((r) => r !== holder);
      await waitUntil('another replica to take the lease over', () => rest.some((r) => r.held), { intervalMs: 50 });
      assert.equal(rest.filter((r) => r.held).length, 1);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('counts the lease as lost once it may have expired, even without hearing so', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('locks');
    let now = Date.now();
    const lease = new LeaderLease({
      container,
      blobName: 'expiry',
      logger,
      role: 'test leadership',
      durationSec: 15,
      intervalMs: 60_000,
      now: () => now,
    });
    try {
      lease.start();
      await lease.settled();
      assert.equal(lease.held, true);
      // Within the 5 s safety margin of the 15 s lease: no longer trusted.
      now += 10_001;
      assert.equal(lease.held, false);
    } finally {
      await lease.stop();
    }
  });

  it('stays released after stop when attempts are slower than the interval', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('locks');
    // A 1 ms interval against requests of several ms: before, attempts overlapped and one finishing
    // after stop() set the lease as held again.
    for (let round = 0; round < 5; round++) {
      const lease = new LeaderLease({
        container,
        blobName: `slow-${round}`,
        logger,
        role: 'test leadership',
        durationSec: 15,
        intervalMs: 1,
      });
      lease.start();
      await waitUntil('the lease to be held', () => lease.held, { intervalMs: 5 });
      await lease.stop();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(lease.held, false, `round ${round}: a stopped replica no longer claims the lease`);
    }
  });
});
