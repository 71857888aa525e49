import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import { scrubExternalText } from '@logferry/shared/logging/redact';
import { parseRetryAfter } from './retry-after.ts';
import { createTokenSource } from './token-cache.ts';

// Why our own client and not `@azure/monitor-ingestion`'s LogsIngestionClient (1.2):
// - it retries 429/5xx inside its pipeline and then throws one AggregateLogsUploadError for the whole
//   call, so we cannot honour a long Retry-After by handing the message back, cannot tell which chunks
//   landed (a redelivery would duplicate them: the API does not deduplicate), and cannot split on 413;
// - it chunks by its own rule and sends chunks concurrently, while resuming a half-uploaded batch needs
//   us to know exactly which records each request carried.
// The protocol is small and stable: POST {endpoint}/dataCollectionRules/{id}/streams/{stream}
// ?api-version=2023-01-01, a gzip JSON array, a bearer token for https://monitor.azure.com/.default,
// 204 on success. The stand-in that tests this client is itself tested against the real SDK.

export const API_VERSION = '2023-01-01';
const MAX_ERROR_TEXT = 1_024;
const MAX_RESPONSE_BYTES = 64 * 1024;

export type UploadAnswer =
  | { readonly kind: 'accepted'; readonly status: number }
  /** 429 (or 503 with Retry-After): wait, then send the same request again. */
  | {
      readonly kind: 'throttled';
      readonly status: number;
      readonly retryAfterMs: number | undefined;
      readonly detail: string;
    }
  /** 413: the request must be split. */
  | { readonly kind: 'tooLarge'; readonly status: number; readonly detail: string }
  /** 5xx, 408, a timeout or a network error: try again with backoff. */
  | { readonly kind: 'transient'; readonly status: number | undefined; readonly detail: string }
  /** 401/403/404: our identity, role assignment, endpoint or DCR is wrong; not the batch's fault. */
  | { readonly kind: 'misconfigured'; readonly status: number; readonly detail: string }
  /** Any other 4xx: the API refuses these records; retrying cannot help. */
  | { readonly kind: 'rejected'; readonly status: number; readonly detail: string };

export interface LogsIngestionClientOptions {
  /** DCE or DCR logs-ingestion endpoint, https only. */
  readonly endpoint: string;
  readonly ruleId: string;
  readonly stream: string;
  readonly credential: TokenCredential;
  /** Token audience; `${audience}/.default` is the scope. */
  readonly audience?: string;
  readonly timeoutMs: number;
  /** Extra CA certificates to trust (tests); child processes use NODE_EXTRA_CA_CERTS instead. */
  readonly ca?: string;
}

export interface LogsIngestionClient {
  /** The URL posted to (no secrets in it). */
  readonly url: string;
  /** Posts one gzip JSON-array body as it is (`Content-Encoding: gzip`). Never throws for HTTP or network faults. */
  upload(gzipBody: Buffer, signal?: AbortSignal): Promise<UploadAnswer>;
  close(): void;
}

export function createLogsIngestionClient(options: LogsIngestionClientOptions): LogsIngestionClient {
  const base = new URL(options.endpoint);
  if (base.protocol !== 'https:') throw new Error('the Logs Ingestion endpoint must be https://');
  const url = new URL(
    `${base.pathname.replace(/\/+$/, '')}/dataCollectionRules/${encodeURIComponent(options.ruleId)}/streams/${encodeURIComponent(options.stream)}`,
    base,
  );
  url.searchParams.set('api-version', API_VERSION);
  const scope = `${(options.audience ?? 'https://monitor.azure.com').replace(/\/+$/, '')}/.default`;
  const tokens = createTokenSource(options.credential, scope);
  const agent = new Agent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });

  async function upload(body: Buffer, signal?: AbortSignal): Promise<UploadAnswer> {
    let token: string;
    try {
      token = await tokens.token(signal);
    } catch (err) {
      return { kind: 'transient', status: undefined, detail: `could not get a token for ${scope}: ${describe(err)}` };
    }
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let answer: { status: number; headers: IncomingHttpHeaders; text: string };
    try {
      answer = await post(url, agent, body, token, combined);
    } catch (err) {
      if (signal?.aborted) return { kind: 'transient', status: undefined, detail: 'interrupted' };
      if (timeout.aborted)
        return { kind: 'transient', status: undefined, detail: `timed out after ${options.timeoutMs} ms` };
      return { kind: 'transient', status: undefined, detail: `network error: ${describe(err)}` };
    }
    return classify(answer.status, answer.headers, answer.text, () => tokens.invalidate());
  }

  return { url: url.toString(), upload, close: () => agent.destroy() };
}

function post(
  url: URL,
  agent: Agent,
  body: Buffer,
  token: string,
  signal: AbortSignal,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        signal,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-encoding': 'gzip',
          'content-length': body.length,
          accept: 'application/json',
          'x-ms-client-request-id': randomUUID(),
          'user-agent': 'logferry-la-uploader',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE_BYTES) chunks.push(c);
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Maps an HTTP answer to what the uploader should do about it. */
export function classify(
  status: number,
  headers: IncomingHttpHeaders,
  text: string,
  onUnauthorized: () => void = () => {},
): UploadAnswer {
  if (status >= 200 && status < 300) return { kind: 'accepted', status };
  const detail = errorText(status, text);
  const retryAfterMs = parseRetryAfter(headers);
  if (status === 429) return { kind: 'throttled', status, retryAfterMs, detail };
  if (status === 413) return { kind: 'tooLarge', status, detail };
  if (status === 503 && retryAfterMs !== undefined) return { kind: 'throttled', status, retryAfterMs, detail };
  if (status >= 500 || status === 408) return { kind: 'transient', status, detail };
  if (status === 401 || status === 403 || status === 404) {
    if (status === 401) onUnauthorized();
    return { kind: 'misconfigured', status, detail };
  }
  return { kind: 'rejected', status, detail };
}

/** `400 InvalidStream: <message>` from the Azure error shape, else the body's start; one line, bounded. */
export function errorText(status: number, text: string): string {
  let detail = text.trim();
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (parsed.error && (parsed.error.code !== undefined || parsed.error.message !== undefined)) {
      detail = `${String(parsed.error.code ?? 'Error')}: ${String(parsed.error.message ?? '')}`;
    }
  } catch {
    // Not JSON: keep the raw text.
  }
  // The body is the sink's (or a proxy's) text: scrubbed like a log line before it reaches a dead-letter.
  return scrubExternalText(`${status}${detail ? ` ${detail}` : ''}`.replace(/\s+/g, ' '), MAX_ERROR_TEXT);
}

function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return scrubExternalText(text.replace(/\s+/g, ' '), 300);
}
