import { sendRequest } from './http-request.ts';
import { describeError, type Probe } from './probe.ts';

// Probes over plain HTTPS: reachability, the Logs Ingestion API's DCR stream, Entra's signing keys.

/** Any HTTP answer proves DNS, TCP and TLS (with NODE_EXTRA_CA_CERTS honoured as the service would). */
export function httpsReachableProbe(name: string, url: string, caFile: string | undefined): Probe {
  return {
    name,
    async run() {
      const res = await sendRequest(url, { method: 'GET', caFile });
      return `${new URL(url).origin} answered HTTP ${res.status} over TLS`;
    },
  };
}

/** The Logs Ingestion API version la-uploader posts with. */
export const LOGS_INGESTION_API_VERSION = '2023-01-01';

/** The URL la-uploader posts a stream's records to: {endpoint}/dataCollectionRules/{id}/streams/{stream}. */
export function dcrStreamUrl(endpoint: string, ruleId: string, stream: string): URL {
  const base = new URL(endpoint);
  const url = new URL(
    `${base.pathname.replace(/\/+$/, '')}/dataCollectionRules/${encodeURIComponent(ruleId)}/streams/${encodeURIComponent(stream)}`,
    base,
  );
  url.searchParams.set('api-version', LOGS_INGESTION_API_VERSION);
  return url;
}

/** Posts an empty array to the stream: the DCR and its stream exist and take our token; nothing is ingested. */
export function dcrStreamProbe(target: {
  endpoint: string;
  ruleId: string;
  stream: string;
  token: () => Promise<string>;
  caFile: string | undefined;
}): Probe {
  return {
    name: `DCR ${target.ruleId} stream ${target.stream}`,
    async run() {
      const res = await sendRequest(dcrStreamUrl(target.endpoint, target.ruleId, target.stream), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await target.token()}`,
          'content-type': 'application/json',
          'user-agent': 'logferry-config-check',
        },
        body: '[]',
        caFile: target.caFile,
      });
      return describeStreamAnswer(res.status, res.text, target.ruleId, target.stream);
    },
  };
}

/** What the Logs Ingestion API's answer to an empty upload says about the DCR and stream; throws unless 2xx. */
export function describeStreamAnswer(status: number, text: string, ruleId: string, stream: string): string {
  if (status >= 200 && status < 300) return `accepted an empty upload (HTTP ${status}, nothing ingested)`;
  const body = errorBody(text);
  let why = '';
  if (status === 404) why = `no DCR ${ruleId} with stream ${stream} here (check DCR_IMMUTABLE_ID and DCR_STREAM)`;
  else if (status === 400 && /stream/i.test(body)) why = `DCR ${ruleId} does not declare stream ${stream} (DCR_STREAM)`;
  else if (status === 403) why = `the identity may not ingest through DCR ${ruleId} (Monitoring Metrics Publisher)`;
  else if (status === 401) why = 'the token was refused (tenant or LOGS_INGESTION_AUDIENCE)';
  throw new Error([`HTTP ${status}${body ? ` ${body.replace(/\.$/, '')}` : ''}`, why].filter(Boolean).join('; '));
}

/** GETs the key set bearer tokens are verified against (the auth module's JWKS URL) and counts its keys. */
export function entraKeysProbe(jwksUrl: URL, caFile: string | undefined): Probe {
  return {
    name: 'Entra token signing keys (AUTH_TENANT_ID)',
    async run() {
      const res = await sendRequest(jwksUrl, { method: 'GET', caFile }).catch((err: unknown) => {
        throw new Error(`${jwksUrl}: ${describeError(err)}`);
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status} from ${jwksUrl}: ${errorBody(res.text)}`);
      let keys: unknown;
      try {
        keys = (JSON.parse(res.text) as { keys?: unknown }).keys;
      } catch {
        throw new Error(`${jwksUrl} answered something other than JSON`);
      }
      if (!Array.isArray(keys) || keys.length === 0) throw new Error(`${jwksUrl} lists no keys`);
      return `${keys.length} keys at ${jwksUrl}`;
    },
  };
}

/** `Code: message` from the Azure (`{error:{code,message}}`) or Entra (`{error, error_description}`) shape, else the text; one line. */
function errorBody(text: string): string {
  let detail = text.trim();
  try {
    const e = (JSON.parse(text) as { error?: unknown; error_description?: unknown }) ?? {};
    if (e.error && typeof e.error === 'object') {
      const { code, message } = e.error as { code?: unknown; message?: unknown };
      detail = `${String(code ?? 'Error')}: ${String(message ?? '')}`;
    } else if (typeof e.error === 'string') {
      detail = `${e.error}${typeof e.error_description === 'string' ? `: ${e.error_description}` : ''}`;
    }
  } catch {
    // Not JSON: keep the text.
  }
  return (detail.split(/\r?\n/)[0] ?? '').slice(0, 300);
}
