import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AssumedRole, assumeRoleWithWebIdentityXml, errorXml } from './sts-xml.ts';

export interface StsStandInOptions {
  readonly port?: number;
  readonly host?: string;
  /** Lifetime of issued credentials, overriding the request's DurationSeconds (short values for refresh tests). */
  readonly durationSeconds?: number;
}

/** One successful AssumeRoleWithWebIdentity, as tests may want to check it (never the token itself). */
export interface StsIssue {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly subject: string;
  readonly audience: string;
  readonly accessKeyId: string;
  readonly expiration: Date;
  /** When it was issued (epoch ms). */
  readonly issuedAt: number;
}

export interface StsStandIn {
  /** http://127.0.0.1:PORT — use as AWS_ENDPOINT_URL_STS. */
  readonly endpoint: string;
  /** How many credentials were issued so far. */
  issued(): number;
  issues(): readonly StsIssue[];
  close(): Promise<void>;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const JWT = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]*$/;
const MAX_BODY = 64 * 1024;

class StsFault extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * A local STS that answers the unsigned form POST `Action=AssumeRoleWithWebIdentity` the way AWS does
 * (awsQuery XML), with expiring credentials, so the web-identity provider runs unchanged in tests and
 * in the local run. It checks the request's shape, not the token's signature.
 */
export async function startStsStandIn(options: StsStandInOptions = {}): Promise<StsStandIn> {
  const issues: StsIssue[] = [];
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 500, errorXml('InternalFailure', String(err), randomUUID(), 'Receiver'));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    if (req.method !== 'POST') {
      send(res, 400, errorXml('InvalidAction', 'STS accepts POST requests only', requestId));
      return;
    }
    const body = await readBody(req);
    if (body === undefined) {
      send(res, 413, errorXml('ValidationError', `request body over ${MAX_BODY} bytes`, requestId));
      return;
    }
    try {
      const role = validate(new URLSearchParams(body), requestId);
      const lifetime = options.durationSeconds ?? role.durationSeconds;
      const creds = {
        accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
        secretAccessKey: randomBytes(30).toString('base64'),
        sessionToken: randomBytes(48).toString('base64'),
        expiration: new Date(Date.now() + lifetime * 1000),
      };
      issues.push({
        roleArn: role.roleArn,
        sessionName: role.sessionName,
        subject: role.subject,
        audience: role.audience,
        accessKeyId: creds.accessKeyId,
        expiration: creds.expiration,
        issuedAt: Date.now(),
      });
      send(res, 200, assumeRoleWithWebIdentityXml(role, creds));
    } catch (err) {
      if (!(err instanceof StsFault)) throw err;
      send(res, 400, errorXml(err.code, err.message, requestId));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    endpoint: `http://${host}:${port}`,
    issued: () => issues.length,
    issues: () => [...issues],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function validate(form: URLSearchParams, requestId: string): AssumedRole & { durationSeconds: number } {
  const action = form.get('Action');
  if (action !== 'AssumeRoleWithWebIdentity') {
    throw new StsFault(
      'InvalidAction',
      `Could not find operation ${action ?? '(none)'} for version ${form.get('Version')}`,
    );
  }
  if (form.get('Version') !== '2011-06-15') {
    throw new StsFault('InvalidAction', `Could not find operation ${action} for version ${form.get('Version')}`);
  }
  const roleArn = form.get('RoleArn') ?? '';
  if (!ROLE_ARN.test(roleArn)) {
    throw new StsFault('ValidationError', `${roleArn || 'RoleArn'} is invalid`);
  }
  const sessionName = form.get('RoleSessionName') ?? '';
  if (!SESSION_NAME.test(sessionName)) {
    throw new StsFault(
      'ValidationError',
      "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
    );
  }
  const durationRaw = form.get('DurationSeconds');
  const durationSeconds = durationRaw === null ? 3600 : Number(durationRaw);
  if (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43_200) {
    throw new StsFault(
      'ValidationError',
      "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200",
    );
  }
  const claims = jwtClaims(form.get('WebIdentityToken') ?? '');
  return {
    roleArn,
    sessionName,
    durationSeconds,
    subject: typeof claims.sub === 'string' ? claims.sub : 'unknown',
    audience: typeof claims.aud === 'string' ? claims.aud : 'unknown',
    provider: typeof claims.iss === 'string' ? claims.iss : 'unknown',
    requestId,
  };
}

function jwtClaims(token: string): Record<string, unknown> {
  const payload = JWT.exec(token)?.[1];
  if (!payload)
    throw new StsFault('InvalidIdentityToken', 'The web identity token that was passed could not be validated');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new StsFault('InvalidIdentityToken', 'The web identity token that was passed is not a valid JWT');
  }
  if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
    throw new StsFault('InvalidIdentityToken', 'The web identity token that was passed is not a valid JWT');
  }
  const exp = (claims as { exp?: unknown }).exp;
  if (typeof exp === 'number' && exp * 1000 < Date.now()) {
    throw new StsFault('ExpiredTokenException', 'Token expired');
  }
  return claims as Record<string, unknown>;
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() });
  res.end(xml);
}
