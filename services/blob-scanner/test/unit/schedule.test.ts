import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '@logferry/shared/testing/wait';
import { startSchedule } from '../../src/schedule.ts';
import { silentLogger } from '../support/fixtures.ts';

describe('scheduled scans', () => {
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
      await waitUntil('the leader to scan twice', () => started.length >= 2);
    } finally {
      schedule.stop();
    }
  });
});
