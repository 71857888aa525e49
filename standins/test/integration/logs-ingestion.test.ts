import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { Agent, request } from 'node:https';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { TokenCredential } from '@azure/core-auth';
import { isAggregateLogsUploadError, LogsIngestionClient } from '@azure/monitor-ingestion';
import { type LogsIngestionStandIn, startLogsIngestionStandIn } from '../../src/logs-ingestion/index.ts';

const DCR = 'dcr-00000000000000000000000000000000';
const STREAM = 'Custom-Code42Events_CL';

const fakeCredential: TokenCredential = {
  getToken: async () => ({ token: 'fake-token', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

/** The real SDK, trusting the stand-in's certificate through a per-request agent (the in-process NODE_EXTRA_CA_CERTS). */
function sdkClient(standIn: LogsIngestionStandIn, maxRetries = 0): LogsIngestionClient {
  const agent = new Agent({ ca: standIn.caCertPem, keepAlive: true });
  return new LogsIngestionClient(standIn.endpoint, fakeCredential, {
    retryOptions: { maxRetries, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
    additionalPolicies: [
      {
        position: 'perCall',
        policy: {
          name: 'trust-stand-in-ca',
          sendRequest: (req, next) => {
            req.agent = agent;
            return next(req);
          },
        },
      },
    ],
  });
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function post(
  standIn: LogsIngestionStandIn,
  path: string,
  body: Buffer | string,
  headers: Record<string, string>,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${standIn.endpoint}${path}`,
      { method: 'POST', ca: standIn.caCertPem, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const ingestPath = (stream = STREAM) => `/dataCollectionRules/${DCR}/streams/${stream}?api-version=2023-01-01`;
const bearer = { authorization: 'Bearer anything' };

describe('Logs Ingestion API stand-in', () => {
  let standIn: LogsIngestionStandIn;
  before(async () => {
    standIn = await startLogsIngestionStandIn({ port: 0 });
  });
  after(async () => {
    await standIn.close();
  });
  beforeEach(() => standIn.reset());

  it('accepts uploads from the real @azure/monitor-ingestion client, gzip and chunked', async () => {
    // ~2.4 MB of JSON: the SDK must split it into several requests under 1 MB.
    const logs = Array.from({ length: 6000 }, (_, i) => ({
      TimeGenerated: '2024-01-01T00:00:00Z',
      n: i,
      pad: 'x'.repeat(380),
    }));
    await sdkClient(standIn).upload(DCR, STREAM, logs);
    // The SDK sends chunks concurrently, so compare as multisets.
    assertSameMultiset(standIn.records(STREAM), logs);
    const log = standIn.requestLog(STREAM);
    assert.ok(log.length >= 3, `expected the SDK to chunk, saw ${log.length} requests`);
    assert.ok(log.every((r) => r.status === 204 && r.gzip && r.immutableId === DCR));
  });

  it('answers injected 429 with Retry-After, which the SDK honours before retrying', async () => {
    standIn.setFaults([{ stream: STREAM, status: 429, count: 1, retryAfterSeconds: 1 }]);
    const started = Date.now();
    await sdkClient(standIn, 2).upload(DCR, STREAM, [{ a: 1 }]);
    assert.ok(Date.now() - started >= 900, 'the SDK should have waited for Retry-After');
    assert.deepEqual(standIn.records(STREAM), [{ a: 1 }]);
    assert.deepEqual(standIn.stats(STREAM).statuses, { '204': 1, '429': 1 });
  });

  it('surfaces injected 400 and 500 to the SDK as errors with the status', async () => {
    standIn.setFaults([
      { stream: STREAM, status: 400, count: 1 },
      { stream: STREAM, status: 500, count: 1 },
    ]);
    const client = sdkClient(standIn);
    for (const expected of [400, 500]) {
      await assert.rejects(client.upload(DCR, STREAM, [{ a: 1 }]), (err) => {
        assert.ok(isAggregateLogsUploadError(err));
        const cause = err.errors[0]?.cause as { statusCode?: number } | undefined;
        assert.equal(cause?.statusCode, expected);
        return true;
      });
    }
    assert.deepEqual(standIn.records(STREAM), []);
    await client.upload(DCR, STREAM, [{ a: 2 }]);
    assert.deepEqual(standIn.records(STREAM), [{ a: 2 }], 'faults are used up after count requests');
  });

  it('applies a fault only to its stream', async () => {
    standIn.setFaults([{ stream: 'Custom-Other_CL', status: 503, count: 5 }]);
    await sdkClient(standIn).upload(DCR, STREAM, [{ a: 1 }]);
    assert.deepEqual(standIn.records(STREAM), [{ a: 1 }]);
  });

  it('refuses a request without a bearer token with 401', async () => {
    const answer = await post(standIn, ingestPath(), '[{"a":1}]', {});
    assert.equal(answer.status, 401);
    assert.equal(standIn.records(STREAM).length, 0);
  });

  it('accepts plain JSON and refuses what is not a JSON array with an Azure-shaped 400', async () => {
    assert.equal((await post(standIn, ingestPath(), '[{"a":1}]', bearer)).status, 204);
    for (const body of ['{"a":1}', 'not json', '[1,2]']) {
      const answer = await post(standIn, ingestPath(), body, bearer);
      assert.equal(answer.status, 400, body);
      const parsed = JSON.parse(answer.body) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, 'InvalidContent');
      assert.ok(parsed.error.message.length > 0);
    }
    assert.deepEqual(standIn.records(STREAM), [{ a: 1 }]);
  });

  it('enforces the 1 MB limit on the body as sent, gzip or not, and once decompressed', async () => {
    const big = JSON.stringify([{ pad: 'y'.repeat(1_048_576) }]);
    assert.equal((await post(standIn, ingestPath(), big, bearer)).status, 413);
    // Random-looking content barely compresses, so the gzip body itself exceeds 1 MB.
    const noisy = JSON.stringify([{ pad: Buffer.from(randomBytes(1_200_000)).toString('base64') }]);
    const gz = gzipSync(noisy);
    assert.ok(gz.length > 1_048_576);
    const answer = await post(standIn, ingestPath(), gz, { ...bearer, 'content-encoding': 'gzip' });
    assert.equal(answer.status, 413);
    assert.equal((JSON.parse(answer.body) as { error: { code: string } }).error.code, 'ContentLengthLimitExceeded');
    // Compresses to a few KB but inflates past 1 MB.
    const bomb = gzipSync(big);
    assert.ok(bomb.length < 100_000);
    assert.equal((await post(standIn, ingestPath(), bomb, { ...bearer, 'content-encoding': 'gzip' })).status, 413);
    assert.equal(standIn.records(STREAM).length, 0);
  });

  it('serves what arrived at GET /stand-in/streams/{stream} and takes faults at POST /stand-in/faults', async () => {
    await post(standIn, ingestPath(), '[{"a":1},{"a":2}]', bearer);
    const faults = await post(standIn, '/stand-in/faults', JSON.stringify([{ status: 500, count: 1 }]), {});
    assert.equal(faults.status, 200);
    assert.equal((await post(standIn, ingestPath(), '[{"a":3}]', bearer)).status, 500);
    const res = await fetchJson(standIn, `/stand-in/streams/${STREAM}?offset=1`);
    assert.equal(res.recordCount, 2);
    assert.deepEqual(res.records, [{ a: 2 }]);
    assert.equal(res.requests, 2);
    assert.deepEqual(res.statuses, { '204': 1, '500': 1 });
  });
});

function assertSameMultiset(actual: readonly unknown[], expected: readonly unknown[]): void {
  assert.equal(actual.length, expected.length, 'record count');
  const a = actual.map((r) => JSON.stringify(r)).sort();
  const e = expected.map((r) => JSON.stringify(r)).sort();
  const firstDiff = a.findIndex((x, i) => x !== e[i]);
  assert.equal(firstDiff, -1, `multisets differ, first at sorted index ${firstDiff}`);
}

describe('Logs Ingestion API stand-in for benchmarks', () => {
  it('counts records without keeping them and reports when accepted requests arrived', async () => {
    const standIn = await startLogsIngestionStandIn({ keepRecords: false });
    try {
      await sdkClient(standIn).upload(DCR, STREAM, [{ a: 1 }, { a: 2 }, { a: 3 }]);
      const stats = standIn.stats(STREAM);
      assert.equal(stats.recordCount, 3);
      assert.deepEqual(standIn.records(STREAM), []);
      assert.ok(stats.firstAcceptedAt !== undefined && stats.lastAcceptedAt !== undefined);
      assert.ok(stats.lastAcceptedAt >= stats.firstAcceptedAt);
    } finally {
      await standIn.close();
    }
  });
});

async function fetchJson(standIn: LogsIngestionStandIn, path: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    request(`${standIn.endpoint}${path}`, { ca: standIn.caCertPem }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>));
    })
      .on('error', reject)
      .end();
  });
}

describe('Logs Ingestion API stand-in CLI', () => {
  it('prints its endpoint and CA file, and a child process trusting the CA via NODE_EXTRA_CA_CERTS can upload', async () => {
    const cli = fileURLToPath(new URL('../../src/logs-ingestion/cli.ts', import.meta.url));
    const child = spawn(process.execPath, [cli, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer];
      const { endpoint, caCertPath } = JSON.parse(line.toString().split('\n')[0] ?? '') as Record<string, string>;
      const script = `
        const { LogsIngestionClient } = await import('@azure/monitor-ingestion');
        const cred = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3600000 }) };
        await new LogsIngestionClient(${JSON.stringify(endpoint)}, cred, { retryOptions: { maxRetries: 0 } })
          .upload(${JSON.stringify(DCR)}, ${JSON.stringify(STREAM)}, [{ from: 'child' }]);
        const res = await fetch(${JSON.stringify(`${endpoint}/stand-in/streams/${STREAM}`)});
        console.log(JSON.stringify((await res.json()).records));`;
      const uploader = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: fileURLToPath(new URL('..', import.meta.url)),
        env: { ...process.env, NODE_EXTRA_CA_CERTS: caCertPath },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      uploader.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      const [code] = (await once(uploader, 'exit')) as [number];
      assert.equal(code, 0);
      assert.deepEqual(JSON.parse(out), [{ from: 'child' }]);
    } finally {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    }
  });

  it('knows its rules: an unknown DCR or stream is 404 with the service’s error, and 401/403/404 can be injected', async () => {
    const strict = await startLogsIngestionStandIn({ rules: { [DCR.toUpperCase()]: [STREAM] } });
    try {
      const body = JSON.stringify([{ a: 1 }]);
      const otherDcr = await post(
        strict,
        `/dataCollectionRules/dcr-11111111111111111111111111111111/streams/${STREAM}?api-version=2023-01-01`,
        body,
        bearer,
      );
      assert.equal(otherDcr.status, 404);
      assert.match(JSON.parse(otherDcr.body).error.message, /Data collection rule with immutable Id .* not found/);
      const otherStream = await post(strict, ingestPath('Custom-Other_CL'), body, bearer);
      assert.equal(otherStream.status, 404);
      assert.match(JSON.parse(otherStream.body).error.message, /Custom-Other_CL/);
      assert.equal((await post(strict, ingestPath(), body, bearer)).status, 204);
      // The real client sees the 404 as an error carrying the status.
      await assert.rejects(sdkClient(strict).upload(DCR, 'Custom-Other_CL', [{ a: 1 }]), (err: unknown) => {
        assert.ok(isAggregateLogsUploadError(err));
        assert.equal((err.errors[0]?.cause as { statusCode?: number } | undefined)?.statusCode, 404);
        return true;
      });
      strict.setFaults([
        { stream: STREAM, status: 401, count: 1 },
        { stream: STREAM, status: 403, count: 1 },
        { stream: STREAM, status: 404, count: 1 },
      ]);
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push((await post(strict, ingestPath(), body, bearer)).status);
      assert.deepEqual(answers, [401, 403, 404, 204]);
      assert.deepEqual(strict.records(STREAM), [{ a: 1 }, { a: 1 }]);
    } finally {
      await strict.close();
    }
  });
});
