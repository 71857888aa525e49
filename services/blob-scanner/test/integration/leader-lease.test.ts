import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BlobServiceClient } from '@azure/storage-blob';
import { type AzuriteHandle, startAzurite } from '@logferry/shared/testing';
import { LeaderLease } from '../../src/leader-lease.ts';
import { startSchedule } from '../../src/schedule.ts';
import { eventually, silentLogger } from '../support/fixtures.ts';

describe('scheduled-scan leadership (blob lease on Azurite)', () => {
  let azurite: AzuriteHandle;
  before(async () => {
    azurite = await startAzurite();
  });
  after(() => azurite.stop());

  it('elects exactly one of several replicas, and hands over when the leader stops', async () => {
    const container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient('locks');
    const make = () =>
      new LeaderLease({
        container,
        blobName: 'blob-scanner-schedule',
        logger: silentLogger,
        durationSec: 15,
        intervalMs: 100,
      });
    const replicas = [make(), make(), make()];
    try {
      for (const r of replicas) r.start();
      await Promise.all(replicas.map((r) => r.settled()));
      await eventually(async () => replicas.some((r) => r.isLeader));
      assert.equal(replicas.filter((r) => r.isLeader).length, 1);

      const leader = replicas.find((r) => r.isLeader)!;
      await leader.stop();
      const rest = replicas.filter((r) => r !== leader);
      await eventually(async () => rest.some((r) => r.isLeader));
      assert.equal(rest.filter((r) => r.isLeader).length, 1);
    } finally {
      await Promise.all(replicas.map((r) => r.stop()));
    }
  });

  it('starts scheduled scans only while leader', async () => {
    let leader = false;
    const started: string[] = [];
    const scanner = {
      start: () => {
        started.push('scan');
        return { kind: 'busy', scan: { scanId: 'x' } } as never;
      },
    };
    const schedule = startSchedule({ intervalMs: 20, scanner, isLeader: () => leader, logger: silentLogger });
    try {
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(started.length, 0, 'followers never scan');
      leader = true;
      await eventually(async () => started.length >= 2);
    } finally {
      schedule.stop();
    }
  });
});
