import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IngestionResultMessage } from '@logferry/shared/messages/index';
import { type AzuriteHandle, startAzurite, waitUntil } from '@logferry/shared/testing';
import type { Delivery } from '@logferry/shared/transport/port';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { readEvents, startTestApp, type TestApp } from '../support/app.ts';
import { AWKWARD_NAMES } from '../support/fixtures.ts';

const KEY = 'status-key-for-tests-0123456789';
const TENANT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const AUDIENCE = 'api://logferry-status';

describe('status API over HTTP', () => {
  let azurite: AzuriteHandle;
  let app: TestApp;
  let token: string;
  let signShortLived: (seconds: number) => Promise<string>;
  const withKey = { 'X-Api-Key': KEY };

  before(async () => {
    azurite = await startAzurite();
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'test', alg: 'RS256' };
    app = await startTestApp(azurite, {
      auth: {
        apiKey: KEY,
        tenantId: TENANT,
        audience: [AUDIENCE],
        keys: createLocalJWKSet({ keys: [jwk] }),
      },
      heartbeatMs: 200,
    });
    token = await new SignJWT({ oid: 'someone' })
      .setProtectedHeader({ alg: 'RS256', kid: 'test' })
      .setIssuer(`https://login.microsoftonline.com/${TENANT}/v2.0`)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(privateKey);
    signShortLived = (seconds) =>
      new SignJWT({ oid: 'someone' })
        .setProtectedHeader({ alg: 'RS256', kid: 'test' })
        .setIssuer(`https://login.microsoftonline.com/${TENANT}/v2.0`)
        .setAudience(AUDIENCE)
        .setExpirationTime(Math.floor(Date.now() / 1000) + seconds)
        .sign(privateKey);
    for (const name of AWKWARD_NAMES) await app.fx.upload(name, `data ${name}`);
    await app.fx.upload('empty.csv', '');
  });
  after(async () => {
    await app?.close();
    await azurite?.stop();
  });

  const get = (path: string, headers: Record<string, string> = withKey) => fetch(`${app.url}${path}`, { headers });
  const post = (path: string, body: string | undefined, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, {
      method: 'POST',
      headers: { ...withKey, 'Content-Type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body }),
    });

  it('serves the page without credentials, with strict security headers and no inline script', async () => {
    const res = await get('/', {});
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'.*script-src 'self'/);
    assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /unsafe-inline/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'every script is an external file');
    assert.doesNotMatch(html, /\son[a-z]+=|style=/i, 'no inline handlers or styles');
    const entry = /<script type="module" src="([^"]+)">/.exec(html)?.[1];
    assert.equal(entry, 'js/main.js');
    const js = await get(`/${entry}`, {});
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /text\/javascript/);
    // Every module the entry imports is served too (a missing one would break the page without a trace here).
    for (const m of (await js.text()).matchAll(/from '\.\/([a-z-]+\.js)'/g)) {
      assert.equal((await get(`/js/${m[1]}`, {})).status, 200, m[1]);
    }
    assert.equal((await get('/js/nope.js', {})).status, 404);
    assert.equal((await get('/style.css', {})).headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('requires credentials for every API route and /events (401 with WWW-Authenticate)', async () => {
    const paths = ['/blobs', '/counts', '/events', '/scans/scan-20240101T000000Z-00000000', '/blobs/x'];
    for (const path of [...paths, '/pipeline', '/dead-letters', '/objects', '/objects/x']) {
      const res = await get(path, {});
      assert.equal(res.status, 401, path);
      assert.match(res.headers.get('www-authenticate') ?? '', /Bearer realm="logferry", ApiKey realm="logferry"/);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'errors carry the headers too');
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.deepEqual(await res.json(), { error: 'authentication required' });
    }
    assert.equal((await post('/scans', '{}', { 'X-Api-Key': 'wrong-key' })).status, 401);
    assert.equal(
      (await post('/dead-letters/replay', '{"subscription":"s3-objects/s3-fetcher"}', { 'X-Api-Key': 'wrong-key' }))
        .status,
      401,
    );
    assert.equal((await get('/counts', { 'X-Api-Key': 'wrong' })).status, 401);
    assert.equal((await get('/counts', { Authorization: `ApiKey ${KEY}` })).status, 200);
    assert.equal((await get('/counts', { Authorization: `Bearer ${token}` })).status, 200);
    const tampered = `${token.slice(0, -4)}AAAA`;
    const bad = await get('/counts', { Authorization: `Bearer ${tampered}` });
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('ends an event stream when the token it was opened with expires', async () => {
    // Clock tolerance (60 s) lets a just-expired token in; the stream must still end at its exp.
    const short = await signShortLived(2);
    const opened = Date.now();
    const stream = await get('/events', { Authorization: `Bearer ${short}` });
    assert.equal(stream.status, 200);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const deadline = setTimeout(() => void reader.cancel(), 15_000);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
      }
    } finally {
      clearTimeout(deadline);
    }
    const lived = Date.now() - opened;
    assert.match(text, /event: expired/, 'the stream says why it ends');
    assert.ok(lived < 14_000, `the server ended the stream (after ${lived} ms), not the test's timeout`);
    const stale = await get('/events', { Authorization: `Bearer ${await signShortLived(-120)}` });
    assert.equal(stale.status, 401);
  });

  it('validates input at the boundary with a JSON 4xx', async () => {
    const cases: [Promise<Response>, number, RegExp][] = [
      [get('/blobs?status=bogus'), 400, /invalid query/],
      [get('/blobs?pageSize=abc'), 400, /invalid query/],
      [get('/blobs?pageSize=0'), 400, /invalid query/],
      [get('/blobs?continuationToken=not-a-token!'), 400, /invalid query/],
      [get('/blobs?sort=name'), 400, /invalid query/],
      [get('/blobs?status=failed&status=queued'), 400, /more than once/],
      [get('/blobs/%E0%A4%A'), 400, /URL-encoded/],
      [get('/scans/not-a-scan'), 400, /not a scan id/],
      [get('/scans/scan-20240101T000000Z-00000000'), 404, /no such scan/],
      [get('/nowhere'), 404, /not found/],
      [post('/scans', '{"prefix":'), 400, /not valid JSON/],
      [post('/scans', '{"prefix":5}'), 400, /invalid request body/],
      [post('/scans', '{"prefix":"a","extra":1}'), 400, /invalid request body/],
      [post('/scans', '{}', { 'Content-Type': 'text/plain' }), 415, /application\/json/],
      [post('/scans', JSON.stringify({ prefix: 'x'.repeat(5000) })), 413, /larger than/],
      [post('/scans', '{}', { Origin: 'https://evil.example' }), 403, /cross-origin/],
      [fetch(`${app.url}/counts`, { method: 'DELETE', headers: withKey }), 405, /not allowed/],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      assert.equal(res.status, status, `${message}`);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      assert.match(((await res.json()) as { error: string }).error, message);
    }
    const capped = await get('/blobs?pageSize=100000');
    assert.equal(capped.status, 200);
    assert.equal(((await capped.json()) as { pageSize: number }).pageSize, 200);
  });

  it('scans on POST /scans, reports progress, and streams it to /events', async () => {
    const stream = await get('/events');
    assert.equal(stream.status, 200);
    assert.match(stream.headers.get('content-type') ?? '', /text\/event-stream/);
    app.publisher.hold();
    const res = await post('/scans', undefined, { 'Content-Type': '' });
    assert.equal(res.status, 202);
    const { scanId, alreadyRunning } = (await res.json()) as { scanId: string; alreadyRunning: boolean };
    assert.equal(alreadyRunning, false);
    assert.equal(res.headers.get('location'), `/scans/${scanId}`);
    const again = await post('/scans', '{}');
    assert.deepEqual(await again.json(), { scanId, state: 'running', prefix: null, alreadyRunning: true });
    assert.equal((await post('/scans', '{"prefix":"Json-"}')).status, 409);
    app.publisher.release();

    const events = await readEvents(stream, (seen) =>
      seen.some((e) => e.type === 'scan' && (e.data as { scan: { state: string } }).scan.state === 'completed'),
    );
    assert.equal(events[0]?.type, 'ready');
    assert.ok(events.filter((e) => e.type === 'blob').length >= AWKWARD_NAMES.length);
    const scan = await waitUntil('the scan to complete', async () => {
      const body = (await (await get(`/scans/${scanId}`)).json()) as { state: string; counts: object };
      return body.state === 'completed' && body;
    });
    assert.deepEqual(scan.counts, { listed: 6, queued: 5, unchanged: 0, skipped: 1, lostRace: 0, failed: 0 });
  });

  it('lists blobs with filters and paging, and shows one blob with its history by encoded name', async () => {
    const page1 = (await (await get('/blobs?status=queued&pageSize=2')).json()) as {
      items: { blobName: string; status: string }[];
      continuationToken: string | null;
    };
    assert.equal(page1.items.length, 2);
    assert.ok(page1.items.every((r) => r.status === 'queued'));
    assert.ok(page1.continuationToken);
    const page2 = (await (
      await get(`/blobs?status=queued&pageSize=2&continuationToken=${encodeURIComponent(page1.continuationToken!)}`)
    ).json()) as { items: { blobName: string }[] };
    assert.equal(page2.items.length, 2);
    assert.notDeepEqual(page2.items, page1.items);
    const json = (await (await get('/blobs?prefix=Json-')).json()) as { items: { blobName: string }[] };
    assert.deepEqual(
      json.items.map((r) => r.blobName).sort(),
      AWKWARD_NAMES.filter((n) => n.startsWith('Json-')).sort(),
    );
    const skipped = (await (await get('/blobs?status=skipped')).json()) as { items: { lastError: string }[] };
    assert.match(skipped.items[0]?.lastError ?? '', /0 bytes/);

    for (const name of AWKWARD_NAMES) {
      const res = await get(`/blobs/${encodeURIComponent(name)}`);
      assert.equal(res.status, 200, name);
      const row = (await res.json()) as { blobName: string; history: { status: string }[] };
      assert.equal(row.blobName, name);
      assert.equal(row.history.at(-1)?.status, 'queued');
    }
    assert.equal((await get('/blobs/no-such-blob.csv')).status, 404);
    const counts = (await (await get('/counts')).json()) as { counts: Record<string, number> };
    assert.equal(counts.counts.queued, 5);
    assert.equal(counts.counts.skipped, 1);
  });

  it('pushes status changes heard on ingestion-results to open streams, with heartbeats', async () => {
    const c = app.fx.container.containerName;
    const name = 'Json-a+b.json';
    const sourceId = '3b241101-e2bb-4255-8caf-4136c566a962';
    await app.fx.store.markIngesting(c, name, { sourceId, table: 'JsonEvents', format: 'json' });
    await app.fx.store.markSucceeded(c, name, sourceId);
    const stream = await get('/events');
    const body = IngestionResultMessage.parse({
      type: 'ingestion-result',
      schemaVersion: 1,
      id: 'r1',
      producer: 'completion-checker',
      time: new Date().toISOString(),
      container: c,
      blobName: name,
      sourceId,
      status: 'succeeded',
      table: 'JsonEvents',
    });
    const delivery = { body, messageId: 'r1', deliveryCount: 1, attempt: 1 } as Delivery<typeof body>;
    let handled = false;
    await readEvents(stream, (seen) => {
      // Once the stream is ready (after the greeting: the latest scan, when there is one).
      if (!handled && seen.some((e) => e.type === 'ready')) {
        handled = true;
        void app.resultsHandler(delivery);
      }
      return (
        seen.some((e) => e.type === 'comment') &&
        seen.some((e) => e.type === 'blob' && (e.data as { row?: { table?: string } }).row?.table === 'JsonEvents')
      );
    });
    assert.deepEqual(await app.resultsHandler(delivery), { kind: 'success' });
  });
});
