import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { principalExpiresAt, type RequestAuthenticator } from '@logferry/shared/auth/http-auth';
import type { Logger } from '@logferry/shared/logging/logger';
import type { EventBus, LiveEvent } from '../live/event-bus.ts';
import { type ApiDeps, getBlob, getCounts, getScan, listBlobs, postScan } from './api.ts';
import { getLocalSinks, type LocalSinks } from './local-sinks.ts';
import { getObject, listObjects, type ObjectsDeps } from './objects-api.ts';
import { getPipeline, listDeadLetters, type PipelineDeps, postReplay } from './pipeline-api.ts';
import { HttpError, sendError, setSecurityHeaders } from './respond.ts';
import { SseHub } from './sse.ts';
import { loadPage, serveAsset } from './static-page.ts';

export interface StatusServerOptions extends ApiDeps {
  readonly events: EventBus;
  readonly auth: RequestAuthenticator;
  readonly logger: Logger;
  /** /readyz: true when this replica can serve (table and transport reachable). */
  readonly ready?: () => Promise<boolean>;
  /** Events each new /events stream starts with (e.g. the running scan). */
  readonly greeting?: () => LiveEvent[];
  readonly heartbeatMs?: number;
  readonly maxEventStreams?: number;
  /** Local runs only: the stand-ins behind GET /local/sinks (absent: 404). */
  readonly localSinks?: LocalSinks;
  /** The pipeline overview and dead letters (absent: those routes answer 404). */
  readonly pipeline?: PipelineDeps;
  /** The S3 objects view (absent: 404). */
  readonly objects?: ObjectsDeps;
}

const API_PATHS = new Set([
  '/scans',
  '/blobs',
  '/counts',
  '/events',
  '/local/sinks',
  '/pipeline',
  '/dead-letters',
  '/dead-letters/replay',
  '/objects',
]);
const API_PREFIXES = ['/scans/', '/blobs/', '/objects/'];

function need<T>(deps: T | undefined, what: string): T {
  if (!deps) throw new HttpError(404, `${what} is not configured on this server`);
  return deps;
}

export interface StatusServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<AddressInfo>;
  close(graceMs?: number): Promise<void>;
}

/** The status page and API on plain node:http: routing, auth, validation, security headers. */
export function createStatusServer(o: StatusServerOptions): StatusServer {
  const page = loadPage();
  const sse = new SseHub({
    events: o.events,
    ...(o.heartbeatMs ? { heartbeatMs: o.heartbeatMs } : {}),
    ...(o.maxEventStreams ? { maxClients: o.maxEventStreams } : {}),
    ...(o.greeting ? { greeting: o.greeting } : {}),
    // The page asks GET /local/sinks only when told there is something to show (no 404 on every page load).
    readyInfo: {
      localSinks: o.localSinks !== undefined,
      pipeline: o.pipeline !== undefined,
      objects: o.objects !== undefined,
    },
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const asset = page.get(path);
    if (asset) return allow(method, ['GET', 'HEAD']) && serveAsset(req, res, asset);
    if (path === '/livez') return allow(method, ['GET']) && sendStatus(res, true);
    if (path === '/readyz') return allow(method, ['GET']) && sendStatus(res, o.ready ? await o.ready() : true);
    if (path === '/favicon.ico') return void res.writeHead(204).end();

    if (!API_PATHS.has(path) && !API_PREFIXES.some((p) => path.startsWith(p))) throw new HttpError(404, 'not found');
    if (method === 'POST') checkSameOrigin(req);
    const auth = await o.auth.authenticate(req);
    if (!auth.ok) {
      throw new HttpError(auth.status, auth.error, undefined, { 'WWW-Authenticate': auth.challenge });
    }

    if (path === '/scans') return allow(method, ['POST']) && postScan(o, req, res);
    if (path.startsWith('/scans/')) return allow(method, ['GET']) && getScan(o, res, path.slice('/scans/'.length));
    if (path === '/blobs') return allow(method, ['GET']) && listBlobs(o, res, url.searchParams);
    // The raw (still percent-encoded) path keeps `/`, `#`, `?` in names intact until decoded once here.
    if (path.startsWith('/blobs/')) return allow(method, ['GET']) && getBlob(o, res, path.slice('/blobs/'.length));
    if (path === '/counts') return allow(method, ['GET']) && getCounts(o, res);
    if (path === '/local/sinks') return allow(method, ['GET']) && getLocalSinks(o.localSinks, res);
    if (path === '/pipeline') return allow(method, ['GET']) && getPipeline(need(o.pipeline, 'the pipeline'), res);
    if (path === '/dead-letters') {
      return allow(method, ['GET']) && listDeadLetters(need(o.pipeline, 'dead letters'), res, url.searchParams);
    }
    if (path === '/dead-letters/replay') {
      return allow(method, ['POST']) && postReplay(need(o.pipeline, 'replay'), req, res, auth.principal);
    }
    if (path === '/objects')
      return allow(method, ['GET']) && listObjects(need(o.objects, 'S3 objects'), res, url.searchParams);
    if (path.startsWith('/objects/')) {
      return allow(method, ['GET']) && getObject(need(o.objects, 'S3 objects'), res, path.slice('/objects/'.length));
    }
    return allow(method, ['GET']) && sse.handle(req, res, principalExpiresAt(auth.principal));
  }

  const server = createServer(
    { requestTimeout: 30_000, headersTimeout: 15_000, maxHeaderSize: 16 * 1024 },
    (req, res) => {
      const started = performance.now();
      setSecurityHeaders(res);
      route(req, res)
        .catch((error: unknown) => {
          if (res.headersSent) {
            res.destroy();
            return;
          }
          if (error instanceof HttpError) {
            if (error.status === 413) res.setHeader('Connection', 'close');
            return sendError(res, error.status, error.message, {
              ...(error.details === undefined ? {} : { details: error.details }),
              headers: error.headers,
            });
          }
          o.logger.error({ err: error, method: req.method, path: pathOf(req) }, 'request failed');
          sendError(res, 500, 'internal error');
        })
        .finally(() => {
          o.logger.debug(
            {
              method: req.method,
              path: pathOf(req),
              status: res.statusCode,
              ms: Math.round(performance.now() - started),
            },
            'http request',
          );
        });
    },
  );
  server.keepAliveTimeout = 5_000;
  // Requests in flight per socket, so close() can end idle sockets at once and busy ones when they finish.
  const sockets = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, 0);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    sockets.set(socket, (sockets.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (sockets.get(socket) ?? 1) - 1;
      sockets.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });

  return {
    server,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      return server.address() as AddressInfo;
    },
    async close(graceMs = 5_000) {
      sse.closeAll();
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Sockets with nothing in flight (keep-alive, or opened and never used) would hold close() open.
      for (const [socket, inFlight] of sockets) if (inFlight === 0) socket.destroy();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

function allow(method: string, methods: readonly string[]): true {
  if (!methods.includes(method)) {
    throw new HttpError(405, `method ${method} not allowed`, undefined, { Allow: methods.join(', ') });
  }
  return true;
}

/**
 * Browsers send Origin on cross-site POSTs; refusing a foreign one stops a web page from starting scans
 * through a user's browser (which matters most in local mode, where no credential is needed).
 */
function checkSameOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new HttpError(403, 'cross-origin request refused');
  }
  if (host !== req.headers.host) throw new HttpError(403, 'cross-origin request refused');
}

function sendStatus(res: ServerResponse, ok: boolean): void {
  res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(ok ? 'ok\n' : 'not ready\n');
}

/** The path without its query string (queries may carry prefixes that are nobody's business in logs). */
function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}
