import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A managed-identity token endpoint as Azure App Service serves it (IDENTITY_ENDPOINT + IDENTITY_HEADER):
 * `@azure/identity`'s ManagedIdentityCredential talks to it unchanged, so a child process configured with
 * AWS_ROLE_ARN runs the real web-identity path (Azure token → STS AssumeRoleWithWebIdentity) on a machine
 * without Azure. Tokens are unsigned JWTs: the STS stand-in reads their claims, never a signature.
 */
export interface IdentityEndpoint {
  /** IDENTITY_ENDPOINT and IDENTITY_HEADER for a child's environment. */
  readonly env: Record<string, string>;
  /** Tokens handed out, by audience (resource). */
  issued(): Readonly<Record<string, number>>;
  close(): Promise<void>;
}

export async function startIdentityEndpoint(): Promise<IdentityEndpoint> {
  const secret = randomBytes(16).toString('hex');
  const issued: Record<string, number> = {};
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://identity');
    const resource = url.searchParams.get('resource');
    if (req.method !== 'GET' || req.headers['x-identity-header'] !== secret || !resource) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'invalid_request', error_description: 'bad managed identity request' }));
      return;
    }
    issued[resource] = (issued[resource] ?? 0) + 1;
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const part = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${part({ alg: 'none', typ: 'JWT' })}.${part({
      iss: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      sub: 'logferry-e2e-identity',
      aud: resource,
      exp,
    })}.`;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: token, expires_on: String(exp), resource, token_type: 'Bearer' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    env: { IDENTITY_ENDPOINT: `http://127.0.0.1:${port}/msi/token`, IDENTITY_HEADER: secret },
    issued: () => ({ ...issued }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
