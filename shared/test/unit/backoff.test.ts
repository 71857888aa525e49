import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, sleep } from '../../src/transport/backoff.ts';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    assert.equal(
      backoffDelay(1, 100, 10_000, () => 1),
      100,
    );
    assert.equal(
      backoffDelay(4, 100, 10_000, () => 1),
      800,
    );
    assert.equal(
      backoffDelay(30, 100, 10_000, () => 1),
      10_000,
    );
    assert.equal(
      backoffDelay(4, 100, 10_000, () => 0),
      0,
    );
    assert.equal(
      backoffDelay(4, 100, 10_000, () => 0.5),
      400,
    );
  });
  it('sleep rejects with the abort reason', async () => {
    const ac = new AbortController();
    const p = sleep(10_000, ac.signal);
    ac.abort(new Error('stop'));
    await assert.rejects(p, /stop/);
  });
});
