import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

export type ReadinessCheck = () => Promise<boolean>;

export interface HealthServerOptions {
  readonly port: number;
  /** Default 0.0.0.0: kubelet probes the pod IP. */
  readonly host?: string;
  readonly logger: Logger;
  /** Named checks for /readyz, e.g. { serviceBus: () => transport.ready() }. */
  readonly checks: Readonly<Record<string, ReadinessCheck>>;
  /** A check that has not answered by then counts as failing. Default 2000 ms. */
  readonly checkTimeoutMs?: number;
  /** Extra fields in the /readyz answer, e.g. each dependency's breaker (nothing secret: it is unauthenticated). */
  readonly details?: () => Record<string, unknown>;
}

export interface HealthServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** From now on /readyz answers 503 "stopping", so the Service stops routing here during shutdown. */
  markStopping(): void;
  close(): Promise<void>;
}

/**
 * GET /livez: 200 as long as the event loop answers (a wedged loop fails the probe by timing out).
 * GET /readyz: 200 when every check resolves true within the timeout, else 503 naming the failures.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const timeoutMs = options.checkTimeoutMs ?? 2_000;
  const log = options.logger.child({ component: 'health' });
  let stopping = false;

  async function readiness(): Promise<{ ok: boolean; failing: string[] }> {
    if (stopping) return { ok: false, failing: ['stopping'] };
    const names = Object.keys(options.checks);
    const results = await Promise.all(names.map((name) => runCheck(options.checks[name], timeoutMs)));
    const failing = names.filter((_, i) => results[i] !== true);
    return { ok: failing.length === 0, failing };
  }

  let lastFailing = '';
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    if (path === '/livez') return send(res, 200, { status: 'alive' });
    if (path === '/readyz') {
      const { ok, failing } = await readiness();
      // Log transitions, not every probe.
      const key = failing.join(',');
      if (key !== lastFailing) {
        if (ok) log.info('ready');
        else log.warn({ failing }, 'not ready');
        lastFailing = key;
      }
      const extra = options.details?.() ?? {};
      return send(res, ok ? 200 : 503, ok ? { status: 'ready', ...extra } : { status: 'not ready', failing, ...extra });
    }
    return send(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'health handler failed');
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
    });
  });
  // Probes must never keep a stopping process alive.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.debug({ port }, 'health server listening');

  let closed: Promise<void> | undefined;
  return {
    port,
    markStopping() {
      stopping = true;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

async function runCheck(check: ReadinessCheck | undefined, timeoutMs: number): Promise<boolean> {
  if (check === undefined) return false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      check().then((v) => v === true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(text);
}
