import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port that was free a moment ago on the host. Services take their ports from the environment, so the
 * supervisor must know them before spawning, and there is a window between this check and the child's bind.
 * The port is drawn at random from BELOW the kernel's ephemeral range: the kernel hands out ephemeral ports to
 * `listen(0)` and, far more often, as the source port of every outgoing connection (each SDK call of a test
 * running beside this one), so a port taken from that range can be in use by the time the child binds it
 * (seen: EADDRINUSE in a full test run). Below the range only another explicit choice can collide.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const low = FIXED_PORTS_FROM;
  const high = ephemeralRangeStart() - 1;
  if (high - low >= 1000) {
    for (let tries = 0; tries < 50; tries++) {
      const port = low + Math.floor(Math.random() * (high - low + 1));
      if (await canBind(port, host)) return port;
    }
  }
  return kernelPort(host);
}

/** `preferred` when it can be bound now, else a free port (the local run's status page prefers 8081). */
export async function preferredPort(preferred: number, host = '127.0.0.1'): Promise<number> {
  if (preferred !== 0 && (await canBind(preferred, host))) return preferred;
  return freePort(host);
}

/** Well above the registered services most machines run (databases, proxies, dev servers below 10000). */
const FIXED_PORTS_FROM = 10_000;

/** The first port of the kernel's ephemeral range (Linux: /proc; elsewhere IANA's 49152). */
function ephemeralRangeStart(): number {
  try {
    const [start] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (start && Number.isInteger(start)) return start;
  } catch {
    // not Linux, or /proc hidden: fall through
  }
  return 49_152;
}

async function canBind(port: number, host: string): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

async function kernelPort(host: string): Promise<number> {
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
