import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { type HealthServer, startHealthServer } from '../../src/lifecycle/health.ts';
import { createLogger } from '../../src/logging/logger.ts';

const logger = createLogger('health-test', {
  level: 'silent',
  destination: new Writable({ write: (_c, _e, cb) => cb() }),
});

async function get(server: HealthServer, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('startHealthServer', () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('binds port 0 to a real port and answers /livez', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', logger, checks: {} });
    assert.ok(server.port > 0);
    assert.deepEqual(await get(server, '/livez'), { status: 200, body: { status: 'alive' } });
    assert.equal((await get(server, '/nope')).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${server.port}/livez`, { method: 'POST' })).status, 405);
  });

  it('/readyz is 200 only when every check passes, else 503 naming the failing ones', async () => {
    let busReady = true;
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      checkTimeoutMs: 200,
      checks: {
        serviceBus: async () => busReady,
        storage: async () => true,
      },
    });
    assert.deepEqual(await get(server, '/readyz'), { status: 200, body: { status: 'ready' } });
    busReady = false;
    assert.deepEqual(await get(server, '/readyz'), {
      status: 503,
      body: { status: 'not ready', failing: ['serviceBus'] },
    });
  });

  it('counts a throwing or slow check as failing', async () => {
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      checkTimeoutMs: 50,
      checks: {
        throws: async () => {
          throw new Error('unreachable');
        },
        hangs: () => new Promise<boolean>(() => {}),
        fine: async () => true,
      },
    });
    const { status, body } = await get(server, '/readyz');
    assert.equal(status, 503);
    assert.deepEqual(body.failing, ['throws', 'hangs']);
  });

  it('reports not ready once stopping, while /livez stays up', async () => {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', logger, checks: { ok: async () => true } });
    server.markStopping();
    assert.deepEqual(await get(server, '/readyz'), {
      status: 503,
      body: { status: 'not ready', failing: ['stopping'] },
    });
    assert.equal((await get(server, '/livez')).status, 200);
  });
});
