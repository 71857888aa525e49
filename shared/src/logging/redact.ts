/**
 * Secret scrubbing for log lines and error text. Two layers, because neither alone is enough:
 * key-based (a field named `password` is secret whatever it holds) and pattern-based (a connection
 * string pasted into an error message has no key to go by). Patterns also run on the final JSON line,
 * so they are written to stop at JSON string delimiters and escapes.
 */

export const REDACTED = '[REDACTED]';

/** Value characters of a `key=value` secret: stops at separators, quotes, whitespace and JSON escapes. */
const VALUE = `[^;"'\\s&\\\\,}<]+`;

const SENSITIVE_NAMES = [
  'password',
  'passwd',
  'pwd',
  'client_secret',
  'clientSecret',
  'APPLICATION_SECRET',
  'AZURE_CLIENT_SECRET',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'secret_access_key',
  'secretAccessKey',
  'session_token',
  'sessionToken',
  'access_key_id',
  'accessKeyId',
  'AccountKey',
  'SharedAccessKey',
  'SharedSecretValue',
  'api[_-]?key',
  'authorization',
  'x-amz-security-token',
  'x-amz-signature',
  'x-amz-credential',
].join('|');

type Rule = readonly [RegExp, string | ((match: string, ...groups: string[]) => string)];

const RULES: readonly Rule[] = [
  // Service Bus / Storage SAS inside a connection string: the value itself contains spaces and `&`.
  [/(SharedAccessSignature\s*=\s*)[^;"'\\]+/gi, `$1${REDACTED}`],
  // Authorization header schemes, including the Service Bus SAS token form.
  [/\b(Bearer|Basic|SharedAccessSignature)(\s+)[A-Za-z0-9\-._~+/=%&:]+/gi, `$1$2${REDACTED}`],
  // JWTs anywhere (id tokens, access tokens, federated tokens).
  [/\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // AWS access key ids (long-term AKIA, temporary ASIA).
  [/\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g, REDACTED],
  // STS XML responses.
  [/<(SecretAccessKey|SessionToken|AccessKeyId)>[^<]*<\//g, `<$1>${REDACTED}</`],
  // SAS / presigned URL signatures and credentials in query strings.
  [
    /([?&;\s]|^)(sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=[^&\s"'\\#]+/gi,
    `$1$2=${REDACTED}`,
  ],
  // The same inside a URL carried (percent-encoded, once or twice) by another URL: `…%26sig%3D…%26…`.
  [
    /(%(?:25)*(?:26|3F)|[?&;\s]|^)(sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)(%(?:25)*3D)(?:(?!%(?:25)*26)[^&\s"'\\#])+/gi,
    `$1$2$3${REDACTED}`,
  ],
  // Kusto connection-string secrets (`Application Key=…`, `AppKey=…`, user/app tokens): values run to `;`.
  [
    /\b(Application\s*Key|AppKey|Application\s*Token|AppToken|User\s*Token|UsrToken|Application\s*Certificate\s*Private\s*Key)(\s*=\s*)[^;"'\\]+/gi,
    `$1$2${REDACTED}`,
  ],
  // user:password@host in URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^:/\s"'@]+:)[^@\s"'/]+@/gi, `$1${REDACTED}@`],
  // key=value, key: value, "key":"value" (also JSON-escaped \"key\":\"value\").
  [
    new RegExp(`\\b(${SENSITIVE_NAMES})(\\\\?["']?\\s*[:=]\\s*\\\\?["']?)(?!\\[REDACTED\\])${VALUE}`, 'gi'),
    `$1$2${REDACTED}`,
  ],
];

const registered = new Set<string>();

/**
 * Exact values to scrub wherever they appear (the secret config values of this process), so a secret
 * that matches no pattern still cannot leak. Short values are ignored: they would mangle ordinary text.
 */
export function registerSecretValues(values: Iterable<unknown>): void {
  for (const v of values) {
    if (typeof v !== 'string') continue;
    if (v.length >= 8) registered.add(v);
    // The key inside a connection string may be logged on its own (by an SDK error, say).
    for (const part of v.split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && isSensitiveKey(part.slice(0, eq).trim()) && part.length - eq > 8)
        registered.add(part.slice(eq + 1));
    }
  }
}

export function clearRegisteredSecrets(): void {
  registered.clear();
}

export function scrubString(input: string): string {
  let out = input;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of RULES) {
    out = out.replace(pattern, replacement as string);
  }
  return out;
}

/** Longest dependency text (ADX failure details, SDK error messages, HTTP bodies) kept by default. */
export const MAX_EXTERNAL_TEXT = 1024;

/**
 * Text that came from a dependency, made fit to store, publish or serve: scrubbed like a log line, then cut
 * to `maxLength` (scrubbing first, so a cut cannot split a secret out of reach of its pattern). A hostile
 * or broken dependency decides what its error says; nothing of it leaves the process unchecked.
 */
export function scrubExternalText(input: string, maxLength = MAX_EXTERNAL_TEXT): string {
  // Bounds the scrubber's own work on a multi-megabyte body; the cut below is far shorter anyway.
  const scrubbed = scrubString(input.length > maxLength * 8 ? input.slice(0, maxLength * 8) : input);
  if (scrubbed.length <= maxLength) return scrubbed;
  const marker = ' …[truncated]';
  return `${scrubbed.slice(0, Math.max(0, maxLength - marker.length))}${marker}`;
}

const SENSITIVE_KEY =
  /^(?:.*secret.*|.*password.*|account_?key|sharedaccesssignature|passwd|pwd|authorization|proxy-authorization|cookie|set-cookie|.*access_?key.*|.*sessiontoken|.*session_token|access_?token|refresh_?token|id_?token|token|sas_?token|sig|signature|credentials?|api_?key|x-amz-security-token)$/i;

export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key);
}

const MAX_DEPTH = 8;

/** Deep copy with secret-named keys censored, strings scrubbed, and errors turned into plain scrubbed objects. */
export function scrubValue(value: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Object]';
  seen.add(value);
  try {
    if (value instanceof Error) return serializeError(value, depth, seen);
    if (Array.isArray(value)) return value.map((v) => scrubValue(v, depth + 1, seen));
    if (value instanceof Date || value instanceof URL) return value;
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.constructor.name} ${value.byteLength}]`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] =
        isSensitiveKey(k) && v !== undefined && v !== null && v !== '' ? REDACTED : scrubValue(v, depth + 1, seen);
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

/** Like pino's std error serializer, but every string (message, stack, nested fields, causes) is scrubbed. */
export function serializeError(err: unknown, depth = 0, seen: WeakSet<object> = new WeakSet()): unknown {
  if (!(err instanceof Error)) return scrubValue(err, depth, seen);
  seen.add(err);
  const out: Record<string, unknown> = {
    type: err.constructor?.name ?? err.name,
    message: scrubString(err.message),
    stack: err.stack === undefined ? undefined : scrubString(err.stack),
  };
  for (const [k, v] of Object.entries(err)) {
    if (k in out) continue;
    out[k] = isSensitiveKey(k) && v !== undefined && v !== null ? REDACTED : scrubValue(v, depth + 1, seen);
  }
  if (err.cause !== undefined && depth < MAX_DEPTH) {
    out.cause = seen.has(err.cause as object) ? '[Circular]' : serializeError(err.cause, depth + 1, seen);
  }
  if (err instanceof AggregateError) {
    out.errors = err.errors.slice(0, 10).map((e) => serializeError(e, depth + 1, seen));
  }
  return out;
}
