import { runningLocalStack } from '../local/state.ts';

/** Reaches blob-scanner's status API the way an operator is allowed to: API key, Entra token, or loopback in local mode. */
export interface StatusApi {
  readonly baseUrl: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export class StatusApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'StatusApiError';
    this.status = status;
  }
}

/**
 * BLOB_SCANNER_URL, else the running local stack's page, else http://127.0.0.1:8081. Auth: a bearer token given
 * (--token, STATUS_API_TOKEN), else STATUS_API_KEY (X-Api-Key), else a token for BLOB_SCANNER_SCOPE from the
 * operator's credential (az login on a laptop, the pod's identity in a pod), else none (accepted only on loopback
 * in local mode).
 */
export async function connectStatusApi(options: { timeoutMs?: number; token?: string } = {}): Promise<StatusApi> {
  const local = process.env.BLOB_SCANNER_URL ? undefined : await runningLocalStack();
  const baseUrl = process.env.BLOB_SCANNER_URL || local?.endpoints.statusPageUrl || 'http://127.0.0.1:8081/';
  const timeoutMs = options.timeoutMs ?? 15_000;
  const headers = await authHeaders(options.token ?? process.env.STATUS_API_TOKEN);
  const call = async (method: string, path: string, body?: unknown) => {
    const url = new URL(path.replace(/^\//, ''), baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`);
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          accept: 'application/json',
          ...headers,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new StatusApiError(
        0,
        `cannot reach the status API at ${url.origin}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (res.status >= 400 && res.status !== 409) {
      const reason = (json as { error?: string } | undefined)?.error ?? text.slice(0, 200);
      const hint =
        res.status === 401 || res.status === 403
          ? ' (pass --token or STATUS_API_TOKEN, set STATUS_API_KEY, or BLOB_SCANNER_SCOPE for an Entra token)'
          : '';
      throw new StatusApiError(res.status, `${method} ${url.pathname}: HTTP ${res.status} ${reason}${hint}`);
    }
    return { status: res.status, body: json };
  };
  return {
    baseUrl,
    get: async <T>(path: string) => (await call('GET', path)).body as T,
    post: async <T>(path: string, body: unknown) => {
      const r = await call('POST', path, body);
      return { status: r.status, body: r.body as T };
    },
  };
}

async function authHeaders(bearer: string | undefined): Promise<Record<string, string>> {
  // `az account get-access-token … --query accessToken -o tsv` pasted as is may carry a newline or "Bearer ".
  const given = bearer?.trim().replace(/^Bearer\s+/i, '');
  if (given) return { authorization: `Bearer ${given}` };
  const key = process.env.STATUS_API_KEY;
  if (key) return { 'x-api-key': key };
  const scope = process.env.BLOB_SCANNER_SCOPE;
  if (!scope) return {};
  const { createOperatorCredential } = await import('@logferry/shared/auth/azure-credential');
  const { defineConfig, parseConfig } = await import('@logferry/shared/config/define');
  const { azureAuthVars } = await import('@logferry/shared/config/parts');
  const credential = createOperatorCredential(parseConfig(defineConfig('logferry', azureAuthVars)));
  const token = await credential.getToken(scope);
  if (!token) throw new Error(`no Entra token for ${scope}`);
  return { authorization: `Bearer ${token.token}` };
}
