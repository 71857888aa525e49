import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

/** One HTTP(S) request, trusting `caFile` as well as the usual roots (what NODE_EXTRA_CA_CERTS gives the service). */
export function sendRequest(
  url: string | URL,
  options: { method: string; headers?: Record<string, string>; body?: string; caFile: string | undefined },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const ca =
      options.caFile && target.protocol === 'https:'
        ? [...rootCertificates, readFileSync(options.caFile, 'utf8')]
        : undefined;
    const body = options.body === undefined ? undefined : Buffer.from(options.body);
    const headers = { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
    const req = (target.protocol === 'http:' ? httpRequest : httpsRequest)(
      target,
      { method: options.method, headers, ...(ca ? { ca } : {}) },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= 64 * 1024) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
