// `logferry standins --seed` and its docker-compose form seed what `npm start` seeds: the three sources of
// routes.json (LOCAL_RUN_SEED), and run with those routes, so the page shows the same three sources in all three
// ways of running locally. Both run as the CLI processes a user starts, on the real stand-ins.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { type AzuriteHandle, type FauxqsHandle, startAzurite, startFauxqsServer } from '@logferry/shared/testing';
import { DEFAULT_ROUTES_FILE, freePort, readStackState } from '@logferry/standins';
import { CLI_MAIN } from '../support/cli.ts';

const DCR = 'dcr-00000000000000000000000000000000';
const STREAMS = {
  Code42FileEvents: 'Custom-Code42FileEvents_CL',
  Code42Audit: 'Custom-Code42Audit_CL',
  VpcFlowLogs: 'Custom-VpcFlowLogs_CL',
};
// LOCAL_RUN_SEED's defaults: 3 file-event objects of 50 events, one audit log and one flow log of 50 each, the
// three ADX samples, and 4 problem cases (truncated gzip, unrouted object, malformed CSV, unmapped file).
const SEEDED =
  'Seeded 250 events in 5 S3 objects (Code42FileEvents 150, Code42Audit 50, VpcFlowLogs 50) and 3 files, with 4 problem cases.';

interface Running {
  readonly child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    text += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

async function waitForOutput(running: Running, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!running.output().includes(text)) {
    if (running.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`no "${text}" in the output:\n${running.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopCli(running: Running): Promise<number | null> {
  running.child.kill('SIGTERM');
  return running.exited;
}

async function keysIn(s3: S3Client, bucket: string): Promise<string[]> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (listed.Contents ?? []).map((o) => o.Key ?? '');
}

/** The status the Logs Ingestion stand-in answers a one-record upload to `stream` with. */
function uploadStatus(endpoint: string, ca: string, stream: string): Promise<number | undefined> {
  const url = new URL(`/dataCollectionRules/${DCR}/streams/${stream}?api-version=2023-01-01`, endpoint);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', ca, headers: { Authorization: 'Bearer test-token', 'Content-Type': 'application/json' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify([{ TimeGenerated: new Date().toISOString() }]));
  });
}

/** Objects under each route of routes.json (what the page's S3 objects view lists per source). */
function assertThreeSources(keys: readonly string[]): void {
  const under = (pattern: RegExp) => keys.filter((key) => pattern.test(key)).length;
  assert.equal(under(/^code42\/file-events\/.*file-events .*\.json\.gz$/), 3, keys.join(', '));
  assert.equal(under(/^code42\/audit\/.*\.json$/), 1, keys.join(', '));
  assert.equal(under(/^AWSLogs\/\d+\/vpcflowlogs\/.*\.log\.gz$/), 1, keys.join(', '));
}

describe('logferry standins --seed: the same three sources as npm start', { timeout: 180_000 }, () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  });

  it('the whole stack runs with routes.json and seeds its three sources', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'logferry-standins-'));
    cleanups.push(() => rm(baseDir, { recursive: true, force: true }));
    const running = startCli(['standins', '--seed', '--base-dir', baseDir]);
    cleanups.push(() => stopCli(running));
    await waitForOutput(running, 'Stand-ins running.', 120_000);
    assert.ok(running.output().includes(SEEDED), running.output());

    const state = await readStackState(baseDir);
    assert.ok(state, 'the state file other commands read');
    const e = state.endpoints;
    assert.equal(e.routesFile, DEFAULT_ROUTES_FILE);
    const s3 = new S3Client({
      endpoint: e.aws.endpoint,
      region: e.aws.region,
      credentials: { accessKeyId: e.aws.accessKeyId, secretAccessKey: e.aws.secretAccessKey },
      forcePathStyle: true,
    });
    cleanups.push(async () => s3.destroy());
    assertThreeSources(await keysIn(s3, e.bucket));
    const ca = await readFile(e.caCertPath, 'utf8');
    for (const stream of Object.values(STREAMS)) {
      assert.equal(await uploadStatus(e.logsIngestionEndpoint, ca, stream), 204, `${stream} accepted`);
    }
    assert.equal(await stopCli(running), 0);
  });

  it("docker-compose's stand-ins (--compose with ROUTES_FILE) seed the same and accept every route's stream", async () => {
    let azurite: AzuriteHandle | undefined;
    let fauxqs: FauxqsHandle | undefined;
    [azurite, fauxqs] = await Promise.all([startAzurite(), startFauxqsServer()]);
    cleanups.push(() => azurite?.stop() ?? Promise.resolve());
    cleanups.push(() => fauxqs?.stop() ?? Promise.resolve());
    const certDir = await mkdtemp(join(tmpdir(), 'logferry-compose-certs-'));
    cleanups.push(() => rm(certDir, { recursive: true, force: true }));
    const [liPort, adxPort, stsPort] = [await freePort(), await freePort(), await freePort()];
    const bucket = 'code42-logs';
    // The environment docker-compose.yml gives the `standins` container, pointed at this test's emulators.
    const running = startCli(
      [
        'standins',
        '--compose',
        '--host=127.0.0.1',
        `--logs-ingestion-port=${liPort}`,
        `--adx-port=${adxPort}`,
        `--sts-port=${stsPort}`,
        `--cert-dir=${certDir}`,
        '--seed',
      ],
      {
        STORAGE_CONNECTION_STRING: azurite.connectionString,
        AWS_ENDPOINT_URL: fauxqs.endpoint,
        AWS_REGION: fauxqs.region,
        AWS_ACCESS_KEY_ID: fauxqs.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: fauxqs.credentials.secretAccessKey,
        SQS_QUEUE_URL: `${fauxqs.endpoint}/000000000000/code42-events`,
        S3_ALLOWED_BUCKETS: bucket,
        DCR_IMMUTABLE_ID: DCR,
        DCR_STREAM: STREAMS.Code42FileEvents,
        ROUTES_FILE: DEFAULT_ROUTES_FILE,
      },
    );
    cleanups.push(() => stopCli(running));
    await waitForOutput(running, 'Stand-ins running.', 120_000);
    assert.ok(running.output().includes(SEEDED), running.output());
    assertThreeSources(await keysIn(fauxqs.s3(), bucket));
    const ca = await readFile(join(certDir, 'ca.pem'), 'utf8');
    for (const stream of Object.values(STREAMS)) {
      assert.equal(await uploadStatus(`https://127.0.0.1:${liPort}`, ca, stream), 204, `${stream} accepted`);
    }
    assert.equal(await uploadStatus(`https://127.0.0.1:${liPort}`, ca, 'Custom-Other_CL'), 404, 'only those');
    assert.equal(await stopCli(running), 0);
  });
});
