import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, preferredPort } from '../../src/stack/ports.ts';

const listen = (port: number) =>
  new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });

describe('local stack ports', () => {
  it('draws ports below the kernel ephemeral range, which outgoing connections never take', async () => {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      assert.ok(port >= 10_000 && port < (start ?? 0), `${port} outside [10000, ${start})`);
      const server = await listen(port); // and it can really be bound
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('keeps a preferred port that is free and replaces one that is taken', async () => {
    const free = await freePort();
    assert.equal(await preferredPort(free), free);
    const taken = await listen(free);
    try {
      const other = await preferredPort(free);
      assert.notEqual(other, free);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
