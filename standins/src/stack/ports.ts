import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on the host. Services take their ports from the environment, so the
 * supervisor must know them before spawning; the tiny window between closing and the child's bind is
 * acceptable on a developer machine and in tests (nothing else races for loopback ports there).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `preferred` when it can be bound now, else a free port (the local run's status page prefers 8081). */
export async function preferredPort(preferred: number, host = '127.0.0.1'): Promise<number> {
  if (preferred === 0) return freePort(host);
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(preferred, host, () => resolve(true));
  });
  if (!ok) return freePort(host);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return preferred;
}
