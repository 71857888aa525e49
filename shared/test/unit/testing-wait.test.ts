import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitUntil } from '../../src/testing/wait.ts';

describe('waitUntil (the test kit waiting helper)', () => {
  it('resolves with the first value that is neither undefined nor false, sync or async', async () => {
    let calls = 0;
    assert.equal(await waitUntil('the third call', () => (++calls >= 3 ? calls : undefined), { intervalMs: 1 }), 3);
    assert.deepEqual(await waitUntil('a list', async () => [1]), [1]);
    assert.equal(await waitUntil('zero counts as a value', () => 0), 0);
  });

  it('rejects past the timeout, naming what it waited for', async () => {
    await assert.rejects(
      waitUntil('the moon', () => false, { timeoutMs: 30, intervalMs: 5 }),
      /timed out after 30 ms waiting for the moon$/,
    );
  });

  it('adds the diagnostics to the timeout error, computing them only then', async () => {
    let computed = 0;
    const diagnostics = () => `state ${++computed}`;
    assert.equal(await waitUntil('at once', () => true, { diagnostics }), true);
    assert.equal(computed, 0);
    await assert.rejects(
      waitUntil('the tide', () => false, { timeoutMs: 20, intervalMs: 5, diagnostics }),
      /waiting for the tide\nstate 1$/,
    );
  });

  it('fails on a throwing probe unless told to retry, then names the last error', async () => {
    const boom = () => {
      throw new Error('boom');
    };
    await assert.rejects(waitUntil('x', boom), /^Error: boom$/);
    await assert.rejects(
      waitUntil('y', boom, { timeoutMs: 20, intervalMs: 5, retryErrors: true }),
      /waiting for y \(last error: Error: boom\)$/,
    );
  });
});
