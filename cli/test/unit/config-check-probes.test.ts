// The config-check probes whose answers the local stack cannot give: a Logs Ingestion 404/403, and an
// Entra key set (the auth module's JWKS URL is login.microsoftonline.com; a local server stands in).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { runProbe } from '../../src/config-check/probe.ts';
import { dcrStreamUrl, describeStreamAnswer, entraKeysProbe } from '../../src/config-check/probes.ts';

const DCR = 'dcr-0123456789abcdef0123456789abcdef';
const STREAM = 'Custom-Code42Events_CL';
const azureError = (code: string, message: string) => JSON.stringify({ error: { code, message } });

describe('Logs Ingestion stream probe: what an answer to an empty upload means', () => {
  it('posts to the URL la-uploader posts to', () => {
    assert.equal(
      dcrStreamUrl('https://dce.westeurope-1.ingest.monitor.azure.com/', DCR, STREAM).toString(),
      `https://dce.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/${DCR}/streams/${STREAM}?api-version=2023-01-01`,
    );
  });

  it('204: the DCR and stream exist and nothing was ingested', () => {
    assert.equal(describeStreamAnswer(204, '', DCR, STREAM), 'accepted an empty upload (HTTP 204, nothing ingested)');
  });

  it('404 names the DCR id and the stream', () => {
    assert.throws(
      () => describeStreamAnswer(404, azureError('NotFound', 'Data collection rule not found.'), DCR, STREAM),
      {
        message: `HTTP 404 NotFound: Data collection rule not found; no DCR ${DCR} with stream ${STREAM} here (check DCR_IMMUTABLE_ID and DCR_STREAM)`,
      },
    );
  });

  it('400 about the stream names it; 403 names the missing role; other answers keep the API text', () => {
    assert.throws(() => describeStreamAnswer(400, azureError('InvalidStream', 'Unknown stream.'), DCR, STREAM), {
      message: `HTTP 400 InvalidStream: Unknown stream; DCR ${DCR} does not declare stream ${STREAM} (DCR_STREAM)`,
    });
    assert.throws(() => describeStreamAnswer(403, azureError('OperationFailed', 'No access.'), DCR, STREAM), {
      message:
        /^HTTP 403 OperationFailed: No access; the identity may not ingest through DCR .*Monitoring Metrics Publisher/,
    });
    assert.throws(() => describeStreamAnswer(500, 'upstream\nsecond line', DCR, STREAM), {
      message: 'HTTP 500 upstream',
    });
  });
});

describe('Entra key-set probe', () => {
  let server: Server;
  let base: string;
  before(async () => {
    server = createServer((req, res) => {
      if (req.url?.startsWith('/good/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            keys: [
              { kty: 'RSA', kid: 'a' },
              { kty: 'RSA', kid: 'b' },
            ],
          }),
        );
      } else if (req.url?.startsWith('/empty/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"keys":[]}');
      } else {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: 'invalid_tenant',
            error_description: "AADSTS90002: Tenant 'nope' not found.\r\nTrace ID: 1",
          }),
        );
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('counts the keys', async () => {
    const url = new URL('/good/discovery/v2.0/keys', base);
    const r = await runProbe(entraKeysProbe(url, undefined), 5_000);
    assert.deepEqual(r, { name: 'Entra token signing keys (AUTH_TENANT_ID)', ok: true, detail: `2 keys at ${url}` });
  });

  it("fails with Entra's own reason, or when the set is empty", async () => {
    const bad = await runProbe(entraKeysProbe(new URL('/nope/discovery/v2.0/keys', base), undefined), 5_000);
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /^HTTP 400 from .*: invalid_tenant: AADSTS90002: Tenant 'nope' not found\.$/);
    const empty = await runProbe(entraKeysProbe(new URL('/empty/discovery/v2.0/keys', base), undefined), 5_000);
    assert.match(empty.detail, /lists no keys$/);
  });

  it('an unreachable key set names its URL', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = new URL(`http://127.0.0.1:${(closed.address() as AddressInfo).port}/t/discovery/v2.0/keys`);
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const r = await runProbe(entraKeysProbe(url, undefined), 5_000);
    assert.equal(r.ok, false);
    assert.ok(r.detail.startsWith(`${url}: `) && r.detail.includes('ECONNREFUSED'), r.detail);
  });
});
