import type { IncomingMessage, ServerResponse } from 'node:http';

// JSON bodies in and out for the stand-ins' HTTP APIs (ADX, Logs Ingestion's control endpoints).

/** Larger bodies are not read: a stand-in's own API never needs more, and a hostile client gets no buffer. */
export const MAX_JSON_BODY = 1024 * 1024;

/** The request body parsed as JSON; undefined when it is not JSON or longer than `maxBytes`. */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_JSON_BODY): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return undefined;
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
}
