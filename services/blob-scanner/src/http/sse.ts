import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventBus, LiveEvent } from '../live/event-bus.ts';
import { sendError } from './respond.ts';

export interface SseOptions {
  readonly events: EventBus;
  /** Comment line sent this often so proxies and the browser keep the stream open. */
  readonly heartbeatMs?: number;
  /** Open streams at once; more are refused with 503 so memory stays bounded. */
  readonly maxClients?: number;
  /** A client this far behind is dropped (it reconnects and reloads) rather than buffered without limit. */
  readonly maxBufferedBytes?: number;
  /** Events sent first on every (re)connection, e.g. the running scan. */
  readonly greeting?: () => LiveEvent[];
  /** What the `ready` event tells the page about this server (e.g. that it has local stand-ins to show). */
  readonly readyInfo?: Readonly<Record<string, unknown>>;
}

/** Server-sent events from the in-process event bus to every open page. */
export class SseHub {
  readonly #options: SseOptions;
  readonly #clients = new Set<ServerResponse>();

  constructor(options: SseOptions) {
    this.#options = options;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /**
   * `expiresAt`: when the caller's credential expires (a bearer token's `exp`). The stream ends then with an
   * `expired` event, so a revoked or expired token cannot keep watching; the page reconnects with a fresh one.
   */
  handle(req: IncomingMessage, res: ServerResponse, expiresAt?: Date): void {
    const lifetimeMs = expiresAt === undefined ? undefined : expiresAt.getTime() - Date.now();
    if (lifetimeMs !== undefined && lifetimeMs <= 0) {
      sendError(res, 401, 'token expired');
      return;
    }
    if (this.#clients.size >= (this.#options.maxClients ?? 100)) {
      sendError(res, 503, 'too many open event streams', { headers: { 'Retry-After': '30' } });
      return;
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      // Tells nginx-style proxies not to buffer the stream.
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    this.#clients.add(res);
    const limit = this.#options.maxBufferedBytes ?? 1024 * 1024;
    const write = (text: string) => {
      if (res.writableLength > limit) {
        cleanup();
        res.destroy();
        return;
      }
      res.write(text);
    };
    const send = (event: LiveEvent) => write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
    write('retry: 3000\n\n');
    for (const event of this.#options.greeting?.() ?? []) send(event);
    write(`event: ready\ndata: ${JSON.stringify(this.#options.readyInfo ?? {})}\n\n`);
    const unsubscribe = this.#options.events.subscribe(send);
    const heartbeat = setInterval(() => write(': ping\n\n'), this.#options.heartbeatMs ?? 15_000);
    heartbeat.unref();
    // setTimeout holds at most 2^31-1 ms (~24.8 days); a token never lives that long, but cap it anyway.
    const expiry =
      lifetimeMs === undefined
        ? undefined
        : setTimeout(
            () => {
              write(`event: expired\ndata: {}\n\n`);
              cleanup();
              res.end();
            },
            Math.min(lifetimeMs, 2_147_483_647),
          );
    expiry?.unref();
    const cleanup = () => {
      clearInterval(heartbeat);
      clearTimeout(expiry);
      unsubscribe();
      this.#clients.delete(res);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
    res.on('error', cleanup);
  }

  /** Ends every stream (shutdown); browsers reconnect to another replica. */
  closeAll(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }
}
