import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { sendJson } from '../http-json.ts';
import { countArrayObjects } from './count-records.ts';
import type { IngestionState, LogsIngestionFault } from './state.ts';

/** The Logs Ingestion API's request limit: 1 MB, as sent and once decompressed. */
export const MAX_REQUEST_BYTES = 1_048_576;
export const SUPPORTED_API_VERSIONS = ['2023-01-01', '2021-11-01-preview'];
/** Past this the stand-in stops draining an oversize body and drops the connection. */
const DRAIN_LIMIT_BYTES = 64 * MAX_REQUEST_BYTES;

const INGEST_PATH = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/;

export function matchIngestPath(pathname: string): { immutableId: string; stream: string } | undefined {
  const m = INGEST_PATH.exec(pathname);
  if (!m?.[1] || !m[2]) return undefined;
  return { immutableId: decodeURIComponent(m[1]), stream: decodeURIComponent(m[2]) };
}

/** Errors take the Azure shape `{"error":{"code","message"}}` so clients can show the API's text. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { error: { code, message } }, { 'x-ms-request-id': randomUUID(), ...headers });
}

/** Reads the whole body; past the limit it keeps draining (so the client sees the 413) but keeps nothing. */
async function readBody(req: IncomingMessage): Promise<{ body: Buffer; bytes: number; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > DRAIN_LIMIT_BYTES) {
      req.destroy();
      break;
    }
    if (bytes <= MAX_REQUEST_BYTES) chunks.push(chunk);
  }
  return { body: Buffer.concat(chunks), bytes, tooLarge: bytes > MAX_REQUEST_BYTES };
}

const FAULT_ERRORS: Record<LogsIngestionFault['status'], { code: string; message: string }> = {
  429: { code: 'TooManyRequests', message: 'Rate limit exceeded for the data collection rule (injected).' },
  413: { code: 'ContentLengthLimitExceeded', message: 'Request too large (injected).' },
  400: { code: 'InvalidStream', message: 'Stream does not match the data collection rule (injected).' },
  500: { code: 'InternalServerError', message: 'Internal server error (injected).' },
  503: { code: 'ServiceUnavailable', message: 'Service unavailable (injected).' },
  401: { code: 'InvalidAuthenticationToken', message: 'The access token is invalid or expired (injected).' },
  403: {
    code: 'OperationFailed',
    message:
      'The authentication token provided does not have access to ingest data for the data collection rule (injected).',
  },
  404: { code: 'NotFound', message: 'Data collection rule not found (injected).' },
};

function faultAnswer(res: ServerResponse, fault: LogsIngestionFault): void {
  const retry: Record<string, string> =
    fault.retryAfterSeconds !== undefined && (fault.status === 429 || fault.status === 503)
      ? { 'retry-after': String(fault.retryAfterSeconds) }
      : {};
  const { code, message } = FAULT_ERRORS[fault.status] ?? FAULT_ERRORS[500];
  sendError(res, fault.status, code, message, retry);
}

/** POST /dataCollectionRules/{immutableId}/streams/{stream}?api-version=… as the Logs Ingestion API answers it. */
export async function handleIngest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: { immutableId: string; stream: string },
  state: IngestionState,
  rules?: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<void> {
  const { body, bytes, tooLarge } = await readBody(req);
  if (state.latencyMs > 0) await new Promise((r) => setTimeout(r, state.latencyMs));
  const encoding = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
  const gzip = encoding === 'gzip';
  const log = (status: number, records: unknown[] = [], count = records.length) =>
    state.record({ ...route, status, bodyBytes: bytes, gzip, records: count, at: Date.now() }, records);
  const refuse = (status: number, code: string, message: string) => {
    log(status);
    sendError(res, status, code, message);
  };

  const apiVersion = url.searchParams.get('api-version');
  if (!apiVersion || !SUPPORTED_API_VERSIONS.includes(apiVersion)) {
    return refuse(400, 'InvalidApiVersion', `The api-version '${apiVersion ?? ''}' is not supported.`);
  }
  if (!/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) {
    return refuse(401, 'InvalidAuthenticationToken', 'A bearer token is required in the Authorization header.');
  }
  // The service knows its rules: an immutable id or stream it does not have is a 404, whatever the body.
  const streams = rules?.get(route.immutableId.toLowerCase());
  if (rules && !streams) {
    return refuse(404, 'NotFound', `Data collection rule with immutable Id '${route.immutableId}' not found.`);
  }
  if (streams && !streams.has(route.stream)) {
    return refuse(
      404,
      'NotFound',
      `Stream '${route.stream}' is not declared in the data collection rule with immutable Id '${route.immutableId}'.`,
    );
  }
  if (tooLarge) {
    return refuse(
      413,
      'ContentLengthLimitExceeded',
      `Maximum allowed content length: ${MAX_REQUEST_BYTES} bytes (1 MB). Provided content length: ${bytes} bytes.`,
    );
  }
  const fault = state.takeFault(route.stream);
  if (fault) {
    log(fault.status);
    return faultAnswer(res, fault);
  }
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
    return refuse(415, 'UnsupportedMediaType', 'Content-Type must be application/json.');
  }
  let raw: Buffer;
  if (gzip) {
    try {
      raw = gunzipSync(body, { maxOutputLength: MAX_REQUEST_BYTES });
    } catch (err) {
      if (err instanceof RangeError) {
        return refuse(
          413,
          'ContentLengthLimitExceeded',
          `Maximum allowed content length: ${MAX_REQUEST_BYTES} bytes (1 MB) once decompressed.`,
        );
      }
      return refuse(400, 'InvalidContent', 'The request body could not be decompressed as gzip.');
    }
  } else if (encoding === '' || encoding === 'identity') {
    raw = body;
  } else {
    return refuse(400, 'InvalidContentEncoding', `Content-Encoding '${encoding}' is not supported; use gzip.`);
  }
  if (!state.keepRecords) {
    const count = countArrayObjects(raw);
    if (count === undefined) return refuse(400, 'InvalidContent', 'The request body must be a JSON array of objects.');
    log(204, [], count);
    res.writeHead(204, { 'x-ms-request-id': randomUUID() });
    res.end();
    return;
  }
  const text = raw.toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return refuse(400, 'InvalidContent', 'The request body is not valid JSON.');
  }
  if (!Array.isArray(parsed)) {
    return refuse(400, 'InvalidContent', 'The request body must be a JSON array of records.');
  }
  if (!parsed.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r))) {
    return refuse(400, 'InvalidContent', 'Every element of the request body must be a JSON object.');
  }
  log(204, parsed);
  res.writeHead(204, { 'x-ms-request-id': randomUUID() });
  res.end();
}
