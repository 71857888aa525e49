import type { IncomingMessage } from 'node:http';
import { BLOB_STATUSES } from '@logferry/shared/stores/blob-status';
import { z } from 'zod';
import { HttpError } from './respond.ts';

export const MAX_BODY_BYTES = 4 * 1024;
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

// Blob names may hold almost anything, but control characters in a filter are always a mistake or an attack.
const prefix = z
  .string()
  .max(1024)
  .refine((s) => ![...s].some(isControl), 'must not contain control characters');

function isControl(c: string): boolean {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
}

export const ScanRequest = z.strictObject({ prefix: prefix.optional() });
export type ScanRequest = z.infer<typeof ScanRequest>;

export const BlobsQuery = z.strictObject({
  status: z.enum(BLOB_STATUSES).optional(),
  prefix: prefix.optional(),
  pageSize: z.coerce
    .number()
    .int()
    .min(1)
    .optional()
    .transform((n) => Math.min(n ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)),
  continuationToken: z
    .string()
    .max(4096)
    .refine(isTableContinuationToken, 'is not a token this API returned')
    .optional(),
});
export type BlobsQuery = z.infer<typeof BlobsQuery>;

/** Parses query parameters; empty values count as absent (the page's filters send `status=`). */
export function parseQuery<T extends z.ZodType>(schema: T, params: URLSearchParams): z.output<T> {
  const raw: Record<string, string> = {};
  for (const [key, value] of params) {
    if (key in raw) throw new HttpError(400, `query parameter "${key}" given more than once`);
    if (value !== '') raw[key] = value;
  }
  return validate(schema, raw, 'query');
}

export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new HttpError(400, `invalid ${what}`, details);
}

/** Reads a small JSON body (absent body → undefined); refuses oversized or non-JSON bodies. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'request body must be application/json');
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

/** Tokens come from @azure/data-tables: base64 of {"nextPartitionKey":…,"nextRowKey":…}. */
function isTableContinuationToken(token: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return false;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      typeof (parsed as { nextPartitionKey?: unknown }).nextPartitionKey === 'string'
    );
  } catch {
    return false;
  }
}

/** A path segment decoded once (names may hold `/`, `#`, `?`), with its length checked. */
export function decodePathSegment(encoded: string, what: string, maxLength: number): string {
  let text: string;
  try {
    text = decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, `${what} is not validly URL-encoded`);
  }
  if (text.length === 0 || text.length > maxLength)
    throw new HttpError(400, `${what} must be 1–${maxLength} characters`);
  return text;
}
