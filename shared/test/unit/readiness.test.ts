import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cachedCheck, type PointReadable, tableReadable } from '../../src/lifecycle/readiness.ts';

describe('cachedCheck', () => {
  it('calls the store at most once per ttl and shares a call in flight', async () => {
    let t = 0;
    let calls = 0;
    let release: (ok: boolean) => void = () => {};
    const check = cachedCheck(
      () => {
        calls++;
        return new Promise<boolean>((resolve) => {
          release = resolve;
        });
      },
      { ttlMs: 5_000, now: () => t },
    );
    const probes = [check(), check(), check()];
    assert.equal(calls, 1, 'concurrent probes share one call');
    release(true);
    assert.deepEqual(await Promise.all(probes), [true, true, true]);
    t = 4_999;
    assert.equal(await check(), true);
    assert.equal(calls, 1, 'answered from cache within the ttl');
    t = 5_000;
    const next = check();
    assert.equal(calls, 2, 'asks again once the ttl has passed');
    release(false);
    assert.equal(await next, false);
    t = 5_999;
    assert.equal(await check(), false);
    assert.equal(calls, 2, 'a failure stands for failureTtlMs');
    t = 6_000;
    void check();
    assert.equal(calls, 3, 'and is asked again sooner than a success');
    release(true);
  });

  it('counts a throwing check as not ready, and caches that too', async () => {
    let calls = 0;
    const check = cachedCheck(async () => {
      calls++;
      throw new Error('unreachable');
    });
    assert.equal(await check(), false);
    assert.equal(await check(), false);
    assert.equal(calls, 1);
  });
});

describe('tableReadable', () => {
  const table = (fail: unknown): PointReadable & { signals: (AbortSignal | undefined)[] } => {
    const signals: (AbortSignal | undefined)[] = [];
    return {
      signals,
      async getEntity(_pk, _rk, options) {
        signals.push(options?.abortSignal);
        throw fail;
      },
    };
  };

  it('is ready when the point read answers 404, and bounds the call with a timeout', async () => {
    const t = table(Object.assign(new Error('ResourceNotFound'), { statusCode: 404 }));
    assert.equal(await tableReadable(t)(), true);
    assert.ok(t.signals[0] instanceof AbortSignal);
  });

  it('is not ready when the read is refused or fails', async () => {
    assert.equal(await tableReadable(table(Object.assign(new Error('forbidden'), { statusCode: 403 })))(), false);
    assert.equal(await tableReadable(table(new Error('ECONNREFUSED')))(), false);
  });
});
