import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';

/**
 * Authenticates HTTP API requests: an Entra ID bearer token (checked against the tenant's published keys),
 * or a configured API key, or — only in local mode, on a loopback-bound server, from a loopback peer — nothing.
 */
export interface HttpAuthOptions {
  /** Entra tenant id (GUID or verified domain); enables bearer tokens when set with `audience`. */
  readonly tenantId?: string | undefined;
  /** Accepted `aud` values: the app's client id (v2 tokens) and/or its App ID URI (v1 tokens). */
  readonly audience?: readonly string[] | undefined;
  /** App role that must appear in the token's `roles` claim (application permissions / assigned users). */
  readonly requiredRole?: string | undefined;
  /** Delegated scope that must appear in the token's `scp` claim. With requiredRole, either one suffices. */
  readonly requiredScope?: string | undefined;
  /** Shared secret accepted in `X-Api-Key` or `Authorization: ApiKey …`. */
  readonly apiKey?: string | undefined;
  /** LOGFERRY_LOCAL: allows anonymous access from loopback when the server also listens on loopback only. */
  readonly localMode?: boolean | undefined;
  /** The host the HTTP server was bound to (e.g. `127.0.0.1`, `::1`, `0.0.0.0`). */
  readonly listenHost?: string | undefined;
  /** Key source override (tests inject createLocalJWKSet); defaults to the tenant's remote JWKS. */
  readonly keys?: JWTVerifyGetKey | undefined;
  /** Issuers override; defaults to the tenant's v2 and v1 issuers. */
  readonly issuers?: readonly string[] | undefined;
  readonly clockToleranceSec?: number | undefined;
}

export type Principal =
  | { readonly kind: 'local' }
  | { readonly kind: 'api-key' }
  | { readonly kind: 'bearer'; readonly subject: string | undefined; readonly claims: JWTPayload };

export type AuthResult =
  | { readonly ok: true; readonly principal: Principal }
  | {
      readonly ok: false;
      readonly status: 401 | 403;
      /** Safe to show to the caller: never contains the presented credential. */
      readonly error: string;
      /** Value for the WWW-Authenticate response header. */
      readonly challenge: string;
    };

export interface RequestAuthenticator {
  authenticate(req: IncomingMessage): Promise<AuthResult>;
  /** What the authenticator accepts, for a startup log line (no secrets). */
  readonly methods: readonly ('bearer' | 'api-key' | 'local')[];
}

/** When the principal's credential stops being valid (a bearer token's `exp`), or undefined if it does not expire. */
export function principalExpiresAt(principal: Principal): Date | undefined {
  return principal.kind === 'bearer' && typeof principal.claims.exp === 'number'
    ? new Date(principal.claims.exp * 1000)
    : undefined;
}

export function entraIssuers(tenantId: string): string[] {
  return [`https://login.microsoftonline.com/${tenantId}/v2.0`, `https://sts.windows.net/${tenantId}/`];
}

export function entraJwksUrl(tenantId: string): URL {
  return new URL(`https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`);
}

export function createRequestAuthenticator(options: HttpAuthOptions): RequestAuthenticator {
  const bearerEnabled = Boolean(options.tenantId && options.audience && options.audience.length > 0);
  if (options.tenantId && !bearerEnabled) {
    throw new Error('bearer authentication needs an audience (AUTH_AUDIENCE) as well as a tenant (AUTH_TENANT_ID)');
  }
  const apiKeyDigest = options.apiKey ? digest(options.apiKey) : undefined;
  const localAllowed = options.localMode === true && isLoopbackHost(options.listenHost ?? '');
  if (!bearerEnabled && !apiKeyDigest && !localAllowed) {
    throw new Error(
      'no way to authenticate API requests: set AUTH_TENANT_ID and AUTH_AUDIENCE (Entra ID tokens) or STATUS_API_KEY, ' +
        'or run with LOGFERRY_LOCAL=true bound to a loopback address',
    );
  }
  const keys = bearerEnabled ? (options.keys ?? createRemoteJWKSet(entraJwksUrl(options.tenantId!))) : undefined;
  const issuers = options.issuers ?? (options.tenantId ? entraIssuers(options.tenantId) : []);
  const schemes = [bearerEnabled ? 'Bearer' : undefined, apiKeyDigest ? 'ApiKey' : undefined].filter(Boolean);
  const realm = 'realm="logferry"';
  const challenge = (error?: string) =>
    (schemes.length > 0 ? schemes : ['ApiKey'])
      .map((s) => `${s} ${realm}${error && s === 'Bearer' ? `, error="${error}"` : ''}`)
      .join(', ');
  const deny = (status: 401 | 403, error: string, bearerError?: string): AuthResult => ({
    ok: false,
    status,
    error,
    challenge: challenge(bearerError),
  });

  async function verifyBearer(token: string): Promise<AuthResult> {
    if (!keys) return deny(401, 'bearer tokens are not accepted by this server');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: [...issuers],
        audience: [...(options.audience ?? [])],
        algorithms: ['RS256'],
        // A token without `exp` would be good forever (and so would an event stream opened with it).
        requiredClaims: ['exp'],
        clockTolerance: options.clockToleranceSec ?? 60,
      }));
    } catch (err) {
      return deny(401, describeJoseError(err), 'invalid_token');
    }
    if (!hasRequiredGrant(payload, options.requiredRole, options.requiredScope)) {
      return deny(403, 'token lacks the required role or scope', 'insufficient_scope');
    }
    return {
      ok: true,
      principal: { kind: 'bearer', subject: stringClaim(payload.oid) ?? payload.sub, claims: payload },
    };
  }

  function checkApiKey(presented: string): AuthResult {
    if (!apiKeyDigest) return deny(401, 'API keys are not accepted by this server');
    // Digests have equal length, so timingSafeEqual neither throws nor leaks the key's length.
    if (timingSafeEqual(digest(presented), apiKeyDigest)) return { ok: true, principal: { kind: 'api-key' } };
    return deny(401, 'invalid API key');
  }

  return {
    methods: [
      ...(bearerEnabled ? (['bearer'] as const) : []),
      ...(apiKeyDigest ? (['api-key'] as const) : []),
      ...(localAllowed ? (['local'] as const) : []),
    ],
    async authenticate(req) {
      const authorization = header(req, 'authorization');
      const xApiKey = header(req, 'x-api-key');
      if (authorization !== undefined) {
        const [scheme = '', ...rest] = authorization.trim().split(/\s+/);
        const value = rest.join(' ');
        if (scheme.toLowerCase() === 'bearer' && value) return verifyBearer(value);
        if (scheme.toLowerCase() === 'apikey' && value) return checkApiKey(value);
        return deny(401, 'unsupported Authorization scheme', 'invalid_request');
      }
      if (xApiKey !== undefined) return checkApiKey(xApiKey);
      if (localAllowed && isLocalRequest(req)) return { ok: true, principal: { kind: 'local' } };
      return deny(401, 'authentication required');
    },
  };
}

/** True when both ends of the connection are loopback and the Host header names loopback (no DNS rebinding). */
export function isLocalRequest(req: IncomingMessage): boolean {
  const { remoteAddress, localAddress } = req.socket;
  if (!remoteAddress || !localAddress || !isLoopbackAddress(remoteAddress) || !isLoopbackAddress(localAddress)) {
    return false;
  }
  const host = header(req, 'host');
  return host !== undefined && isLoopbackHost(hostWithoutPort(host));
}

export function isLoopbackAddress(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || isLoopbackAddress(h);
}

function hostWithoutPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon > 0 && host.indexOf(':') === colon ? host.slice(0, colon) : host;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function stringClaim(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function hasRequiredGrant(payload: JWTPayload, role: string | undefined, scope: string | undefined): boolean {
  if (!role && !scope) return true;
  const roles = Array.isArray(payload.roles) ? payload.roles : [];
  const scopes = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
  return (role !== undefined && roles.includes(role)) || (scope !== undefined && scopes.includes(scope));
}

function describeJoseError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'token expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    return err.reason === 'missing' ? `token claim "${err.claim}" missing` : `token claim "${err.claim}" rejected`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'token signature invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof errors.JWKSTimeout) return 'token signing keys unavailable, try again';
  return 'token invalid';
}
