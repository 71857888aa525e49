import { scrubString } from '@logferry/shared/logging/redact';

export interface ProbeResult {
  readonly name: string;
  readonly ok: boolean;
  /** ok: what was verified; not ok: the precise failure (scrubbed of secrets). */
  readonly detail: string;
}

export interface Probe {
  readonly name: string;
  run(): Promise<string>;
}

/** Runs one probe with a deadline; any throw or timeout becomes a failure line naming the cause. */
export async function runProbe(probe: Probe, timeoutMs: number): Promise<ProbeResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const detail = await Promise.race([
      probe.run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    return { name: probe.name, ok: true, detail };
  } catch (err) {
    return { name: probe.name, ok: false, detail: describeError(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** The most specific reason an SDK or fetch error carries: code, HTTP status, nested cause. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as {
      name?: string;
      code?: string;
      statusCode?: number;
      $metadata?: { httpStatusCode?: number };
      message?: string;
      cause?: unknown;
      errors?: unknown[];
    };
    const status = x.statusCode ?? x.$metadata?.httpStatusCode;
    const msg = (x.message ?? String(e)).split('\n')[0] ?? '';
    const label = [x.code && !msg.includes(x.code) ? x.code : undefined, status ? `HTTP ${status}` : undefined]
      .filter(Boolean)
      .join(' ');
    const line = [label, msg].filter(Boolean).join(': ');
    if (line && !parts.some((p) => p.includes(line))) parts.push(line);
    e = x.cause ?? x.errors?.[0];
  }
  return scrubString(parts.join(' ← ') || 'unknown error').slice(0, 500);
}
