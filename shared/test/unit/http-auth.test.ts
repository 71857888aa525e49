import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { before, describe, it } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import {
  createRequestAuthenticator,
  entraIssuers,
  type HttpAuthOptions,
  isLocalRequest,
  principalExpiresAt,
} from '../../src/auth/http-auth.ts';

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://logferry-status';
const API_KEY = 'k3y-for-tests-0123456789abcdef';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

function request(headers: Record<string, string>, addr: { remote?: string; local?: string } = {}): IncomingMessage {
  const socket = { remoteAddress: addr.remote ?? '10.0.0.7', localAddress: addr.local ?? '10.0.0.1' } as Socket;
  return { headers, socket } as unknown as IncomingMessage;
}

describe('http-auth', () => {
  let signingKey: Key;
  let otherKey: Key;
  let options: HttpAuthOptions;

  before(async () => {
    const pair = await generateKeyPair('RS256');
    signingKey = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    options = { tenantId: TENANT, audience: [AUDIENCE], apiKey: API_KEY, keys: createLocalJWKSet({ keys: [jwk] }) };
  });

  async function token(
    claims: JWTPayload & { aud?: string; iss?: string },
    opts: { key?: Key; expiresIn?: string | number | null } = {},
  ): Promise<string> {
    const { aud = AUDIENCE, iss = entraIssuers(TENANT)[0], ...rest } = claims;
    const jwt = new SignJWT({ oid: 'user-oid', ...rest })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setIssuer(iss!)
      .setAudience(aud)
      .setIssuedAt();
    if (opts.expiresIn !== null) jwt.setExpirationTime(opts.expiresIn ?? '10m');
    return jwt.sign(opts.key ?? signingKey);
  }

  it('accepts a valid v2 token and reports the caller', async () => {
    const auth = createRequestAuthenticator(options);
    const result = await auth.authenticate(request({ authorization: `Bearer ${await token({})}` }));
    assert.equal(result.ok, true);
    assert.deepEqual(result.ok && result.principal.kind === 'bearer' && result.principal.subject, 'user-oid');
  });

  it('accepts the v1 issuer (sts.windows.net)', async () => {
    const auth = createRequestAuthenticator(options);
    const jwt = await token({ iss: `https://sts.windows.net/${TENANT}/` });
    assert.equal((await auth.authenticate(request({ authorization: `Bearer ${jwt}` }))).ok, true);
  });

  for (const [name, make, expected] of [
    ['wrong audience', () => token({ aud: 'api://someone-else' }), /claim "aud"/],
    ['wrong issuer', () => token({ iss: 'https://login.microsoftonline.com/other-tenant/v2.0' }), /claim "iss"/],
    ['expired', () => token({}, { expiresIn: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['signed by another key', () => token({}, { key: otherKey }), /signature/],
    ['no exp claim (it would never expire)', () => token({}, { expiresIn: null }), /claim "exp" missing/],
  ] as const) {
    it(`rejects a token with ${name} (401, WWW-Authenticate Bearer invalid_token)`, async () => {
      const auth = createRequestAuthenticator(options);
      const result = await auth.authenticate(request({ authorization: `Bearer ${await make()}` }));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.status, 401);
      assert.match(result.error, expected);
      assert.match(result.challenge, /Bearer realm="logferry", error="invalid_token"/);
    });
  }

  it("reports when a bearer principal's token expires (event streams end then)", async () => {
    const auth = createRequestAuthenticator(options);
    const exp = Math.floor(Date.now() / 1000) + 600;
    const result = await auth.authenticate(request({ authorization: `Bearer ${await token({}, { expiresIn: exp })}` }));
    assert.ok(result.ok);
    assert.equal(principalExpiresAt(result.principal)?.getTime(), exp * 1000);
    assert.equal(principalExpiresAt({ kind: 'api-key' }), undefined);
  });

  it('rejects garbage in place of a token', async () => {
    const result = await createRequestAuthenticator(options).authenticate(request({ authorization: 'Bearer abc.def' }));
    assert.equal(result.ok, false);
  });

  it('requires the configured role or scope (403 insufficient_scope)', async () => {
    const auth = createRequestAuthenticator({ ...options, requiredRole: 'Status.Read', requiredScope: 'status.read' });
    const none = await auth.authenticate(request({ authorization: `Bearer ${await token({})}` }));
    assert.equal(!none.ok && none.status, 403);
    assert.match(!none.ok ? none.challenge : '', /insufficient_scope/);
    const role = await auth.authenticate(
      request({ authorization: `Bearer ${await token({ roles: ['Status.Read'] })}` }),
    );
    assert.equal(role.ok, true);
    const scope = await auth.authenticate(
      request({ authorization: `Bearer ${await token({ scp: 'x status.read' })}` }),
    );
    assert.equal(scope.ok, true);
  });

  it('accepts the API key in X-Api-Key or Authorization: ApiKey, and rejects a wrong one', async () => {
    const auth = createRequestAuthenticator(options);
    assert.equal((await auth.authenticate(request({ 'x-api-key': API_KEY }))).ok, true);
    assert.equal((await auth.authenticate(request({ authorization: `ApiKey ${API_KEY}` }))).ok, true);
    const bad: Record<string, string>[] = [
      { 'x-api-key': 'nope' },
      { 'x-api-key': `${API_KEY}x` },
      { authorization: 'ApiKey nope' },
    ];
    for (const headers of bad) {
      const result = await auth.authenticate(request(headers));
      assert.equal(result.ok, false);
      if (result.ok) return;
      assert.equal(result.status, 401);
      assert.doesNotMatch(result.error, /nope/, 'the presented key is never echoed');
      assert.match(result.challenge, /ApiKey realm="logferry"/);
    }
  });

  it('rejects a request without credentials with a challenge naming every scheme', async () => {
    const result = await createRequestAuthenticator(options).authenticate(request({}));
    assert.equal(result.ok, false);
    if (!result.ok) assert.equal(result.challenge, 'Bearer realm="logferry", ApiKey realm="logferry"');
  });

  describe('local mode', () => {
    const loop = { remote: '127.0.0.1', local: '127.0.0.1' };

    it('lets a loopback caller in without credentials when bound to loopback', async () => {
      const auth = createRequestAuthenticator({ localMode: true, listenHost: '127.0.0.1' });
      assert.deepEqual(auth.methods, ['local']);
      const result = await auth.authenticate(request({ host: '127.0.0.1:8080' }, loop));
      assert.deepEqual(result, { ok: true, principal: { kind: 'local' } });
      assert.equal((await auth.authenticate(request({ host: 'localhost:1' }, loop))).ok, true);
      const v6 = { remote: '::1', local: '::1' };
      assert.equal((await auth.authenticate(request({ host: '[::1]:8080' }, v6))).ok, true);
    });

    it('still refuses non-loopback peers, and hosts that are not loopback names (DNS rebinding)', async () => {
      const auth = createRequestAuthenticator({ localMode: true, listenHost: '127.0.0.1', apiKey: API_KEY });
      assert.equal((await auth.authenticate(request({ host: '127.0.0.1:8080' }))).ok, false);
      assert.equal((await auth.authenticate(request({ host: 'evil.example:8080' }, loop))).ok, false);
      assert.equal(isLocalRequest(request({}, loop)), false, 'no Host header');
    });

    it('is off when the server listens beyond loopback, or without LOGFERRY_LOCAL', async () => {
      const wide = createRequestAuthenticator({ localMode: true, listenHost: '0.0.0.0', apiKey: API_KEY });
      assert.equal((await wide.authenticate(request({ host: '127.0.0.1:8080' }, loop))).ok, false);
      const notLocal = createRequestAuthenticator({ localMode: false, listenHost: '127.0.0.1', apiKey: API_KEY });
      assert.equal((await notLocal.authenticate(request({ host: '127.0.0.1:8080' }, loop))).ok, false);
    });

    it('refuses to start with no way to authenticate', () => {
      assert.throws(() => createRequestAuthenticator({ localMode: true, listenHost: '0.0.0.0' }), /STATUS_API_KEY/);
      assert.throws(() => createRequestAuthenticator({ tenantId: TENANT }), /AUTH_AUDIENCE/);
    });
  });
});
