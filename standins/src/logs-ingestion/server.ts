import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readJsonBody, sendJson } from '../http-json.ts';
import { createLoopbackCertificate, type LoopbackCertificate } from '../tls.ts';
import { handleIngest, matchIngestPath, sendError } from './ingest-request.ts';
import {
  FAULT_STATUSES,
  IngestionState,
  type LogsIngestionFault,
  type RequestLogEntry,
  type StreamStats,
} from './state.ts';

export interface LogsIngestionStandInOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly faults?: readonly LogsIngestionFault[];
  /** false: count records without keeping them (benchmarks); records() then returns []. Default true. */
  readonly keepRecords?: boolean;
  /** Reuse a certificate (e.g. one shared with other stand-ins); made fresh when omitted. */
  readonly certificate?: LoopbackCertificate;
  /**
   * The data collection rules it serves: immutable id → the streams each declares. A request to another
   * rule or stream is answered 404, as the service does. When omitted, every rule and stream is accepted.
   */
  readonly rules?: Readonly<Record<string, readonly string[]>>;
}

export interface LogsIngestionStandIn {
  /** `https://127.0.0.1:<port>`: use as LOGS_INGESTION_ENDPOINT. */
  readonly endpoint: string;
  /** PEM file to pass as NODE_EXTRA_CA_CERTS to child processes. */
  readonly caCertPath: string;
  readonly caCertPem: string;
  /** Records accepted on a stream, in arrival order. */
  records(stream: string): unknown[];
  /** Requests that reached a stream's route, whatever the answer. */
  requests(stream: string): number;
  stats(stream: string): StreamStats;
  requestLog(stream: string): RequestLogEntry[];
  streams(): string[];
  /** Replaces the pending faults. */
  setFaults(faults: readonly LogsIngestionFault[]): void;
  /** Delays every answer by this much (0: none), as a slow sink would. */
  setLatency(ms: number): void;
  /** Resolves once the stream holds at least `count` records. */
  waitForRecords(stream: string, count: number, timeoutMs?: number): Promise<void>;
  waitFor(pred: () => boolean, timeoutMs?: number): Promise<void>;
  reset(): void;
  close(): Promise<void>;
}

const PAGE_LIMIT = 10_000;

/**
 * A Logs Ingestion API stand-in: the real protocol over HTTPS (certificate made at start), any bearer
 * token, gzip or plain JSON arrays, the 1 MB limit, fault injection. `/stand-in/…` routes let child
 * processes and the local run's page read what arrived and set faults.
 */
export async function startLogsIngestionStandIn(
  options: LogsIngestionStandInOptions = {},
): Promise<LogsIngestionStandIn> {
  const certificate = options.certificate ?? (await createLoopbackCertificate());
  const ownsCertificate = options.certificate === undefined;
  const state = new IngestionState({ keepRecords: options.keepRecords ?? true });
  state.setFaults(options.faults ?? []);
  // Immutable ids are case-insensitive; stream names are not.
  const rules =
    options.rules &&
    new Map(Object.entries(options.rules).map(([id, streams]) => [id.toLowerCase(), new Set(streams)] as const));

  const server = createServer({ cert: certificate.certPem, key: certificate.keyPem }, (req, res) => {
    route(req, res, state, rules).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 500, 'InternalServerError', `stand-in bug: ${String(err)}`);
      else res.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    caCertPath: certificate.caCertPath,
    caCertPem: certificate.caCertPem,
    records: (stream) => state.records(stream),
    requests: (stream) => state.stats(stream).requests,
    stats: (stream) => state.stats(stream),
    requestLog: (stream) => state.requestLog(stream),
    streams: () => state.streams(),
    setFaults: (faults) => state.setFaults(faults),
    setLatency: (ms) => {
      state.latencyMs = Math.max(0, ms);
    },
    waitForRecords: (stream, count, timeoutMs = 30_000) =>
      state.waitFor(() => state.stats(stream).recordCount >= count, timeoutMs),
    waitFor: (pred, timeoutMs = 30_000) => state.waitFor(pred, timeoutMs),
    reset: () => state.reset(),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownsCertificate) await certificate.dispose();
    },
  };
}

async function route(
  req: IncomingMessage,
  res: ServerResponse,
  state: IngestionState,
  rules: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://stand-in');
  const ingest = matchIngestPath(url.pathname);
  if (ingest) {
    if (req.method !== 'POST') return sendError(res, 405, 'MethodNotAllowed', 'Use POST.');
    return handleIngest(req, res, url, ingest, state, rules);
  }
  if (url.pathname === '/stand-in/streams' && req.method === 'GET') {
    return sendJson(res, 200, { streams: state.streams().map((s) => state.stats(s)) });
  }
  const streamRoute = /^\/stand-in\/streams\/([^/]+)$/.exec(url.pathname);
  if (streamRoute?.[1] && req.method === 'GET') {
    const stream = decodeURIComponent(streamRoute[1]);
    const offset = Math.max(0, Number(url.searchParams.get('offset') ?? 0) || 0);
    const limit = Math.min(PAGE_LIMIT, Math.max(0, Number(url.searchParams.get('limit') ?? PAGE_LIMIT) || 0));
    const all = state.records(stream);
    return sendJson(res, 200, { ...state.stats(stream), offset, records: all.slice(offset, offset + limit) });
  }
  if (url.pathname === '/stand-in/faults' && req.method === 'POST') {
    const faults = await readJsonBody(req);
    if (!isFaultList(faults)) {
      return sendError(
        res,
        400,
        'InvalidContent',
        `Expected [{"stream"?, "status": ${FAULT_STATUSES.join('|')}, "count", "retryAfterSeconds"?}].`,
      );
    }
    state.setFaults(faults);
    return sendJson(res, 200, { pending: state.pendingFaults() });
  }
  if (url.pathname === '/stand-in/reset' && req.method === 'POST') {
    state.reset();
    return sendJson(res, 200, {});
  }
  return sendError(res, 404, 'NotFound', `No route for ${req.method} ${url.pathname}.`);
}

function isFaultList(value: unknown): value is LogsIngestionFault[] {
  return (
    Array.isArray(value) &&
    value.every(
      (f: Partial<LogsIngestionFault>) =>
        typeof f === 'object' &&
        f !== null &&
        (FAULT_STATUSES as readonly number[]).includes(f.status as number) &&
        Number.isInteger(f.count) &&
        (f.stream === undefined || typeof f.stream === 'string') &&
        (f.retryAfterSeconds === undefined || typeof f.retryAfterSeconds === 'number'),
    )
  );
}
