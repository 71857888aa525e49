// How the operator CLI authenticates to blob-scanner's status API from a laptop: a token passed with --token or
// STATUS_API_TOKEN (e.g. from `az account get-access-token`), or, with BLOB_SCANNER_SCOPE, the operator's own
// `az login` through AzureCliCredential (a stand-in `az` on PATH prints what the real one prints for
// `az account get-access-token --output json`); in a pod the pod's identity is used instead, never az.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli.ts';

describe('logferry status: credentials for the status API', () => {
  let server: Server;
  let url = '';
  let seen: (string | undefined)[] = [];
  let dir = '';

  before(async () => {
    // Answers as blob-scanner does, and remembers the Authorization header of each request.
    server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      if (req.url?.startsWith('/counts')) res.end(JSON.stringify({ container: 'data', counts: { succeeded: 1 } }));
      else res.end(JSON.stringify({ items: [], continuationToken: null }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    dir = mkdtempSync(join(tmpdir(), 'logferry-az-'));
    // `az account get-access-token --output json --resource R`: records its arguments, prints the token JSON.
    writeFileSync(
      join(dir, 'az'),
      `#!/bin/sh\necho "$@" >> "${dir}/az-calls"\n` +
        `echo '{"accessToken":"token-from-az-login","expiresOn":"2099-01-01 00:00:00.000000","expires_on":4070908800,"subscription":"s","tenant":"t","tokenType":"Bearer"}'\n`,
    );
    chmodSync(join(dir, 'az'), 0o755);
  });
  after(() => {
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const lastAuth = () => seen.at(-1);

  it('--token goes as the bearer token (a pasted "Bearer " and newline are tolerated)', async () => {
    seen = [];
    const r = await runCli(['status', '--token', 'Bearer abc.def.ghi\n'], { BLOB_SCANNER_URL: url });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(seen.length >= 2 && seen.every((a) => a === 'Bearer abc.def.ghi'), JSON.stringify(seen));
  });

  it('STATUS_API_TOKEN does the same for scripts; --token wins over it', async () => {
    seen = [];
    let r = await runCli(['status'], { BLOB_SCANNER_URL: url, STATUS_API_TOKEN: 'from-env' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(lastAuth(), 'Bearer from-env');
    r = await runCli(['status', '--token', 'from-flag'], { BLOB_SCANNER_URL: url, STATUS_API_TOKEN: 'from-env' });
    assert.equal(lastAuth(), 'Bearer from-flag');
  });

  it("with BLOB_SCANNER_SCOPE on a laptop, uses the operator's az login (AzureCliCredential)", async () => {
    seen = [];
    const r = await runCli(['status'], {
      BLOB_SCANNER_URL: url,
      BLOB_SCANNER_SCOPE: 'api://logferry-status/.default',
      PATH: `${dir}:${process.env.PATH ?? ''}`,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(lastAuth(), 'Bearer token-from-az-login');
    assert.match(
      readFileSync(join(dir, 'az-calls'), 'utf8'),
      /account get-access-token --output json --resource api:\/\/logferry-status/,
    );
  });

  it('in a pod (KUBERNETES_SERVICE_HOST) uses the pod identity first, not az', async () => {
    rmSync(join(dir, 'az-calls'), { force: true });
    seen = [];
    const r = await runCli(
      ['status'],
      {
        BLOB_SCANNER_URL: url,
        BLOB_SCANNER_SCOPE: 'api://logferry-status/.default',
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        // No managed identity endpoint answers here: the attempt fails fast instead of reaching IMDS.
        IDENTITY_ENDPOINT: 'http://127.0.0.1:9/msi/token',
        IDENTITY_HEADER: 'x',
      },
      90_000,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.equal(seen.length, 0, 'no request without a token');
    assert.throws(() => readFileSync(join(dir, 'az-calls')), 'az was not run');
  });
});
