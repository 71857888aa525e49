// config check: each endpoint reported as ok or with the precise failure; problems name variables, never secrets.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { createLogger } from '@logferry/shared/logging/logger';
import { type FauxqsHandle, startFauxqsServer } from '@logferry/shared/testing';
import { freePort, REPO_ROOT, type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { ofKind, REQUIRED, renderChart } from '../../../deploy/test/chart-fixture.ts';
import { runCli } from '../support/cli.ts';

describe('logferry config check', () => {
  let fauxqs: FauxqsHandle;
  let bus: ServiceBusStandIn;
  let env: Record<string, string>;

  before(async () => {
    [fauxqs, bus] = await Promise.all([
      startFauxqsServer(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    const q = await fauxqs.sqs().send(new CreateQueueCommand({ QueueName: 'code42-events' }));
    env = {
      ...fauxqs.env(),
      SERVICEBUS_CONNECTION_STRING: bus.connectionString,
      SQS_QUEUE_URL: q.QueueUrl ?? '',
      S3_ALLOWED_BUCKETS: 'code42-logs',
    };
  });
  after(async () => {
    await Promise.all([bus?.close(), fauxqs?.stop()]);
  });

  it("in a pod checks that pod's service by default: LOGFERRY_SERVICE, which the chart sets in each Deployment", async () => {
    // sqs-poller's environment only, as in its pod: the five other services' checks would fail on it.
    const r = await runCli(['config', 'check'], { ...env, LOGFERRY_SERVICE: 'sqs-poller' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^sqs-poller$/m);
    for (const other of ['s3-fetcher', 'la-uploader', 'blob-scanner', 'adx-ingester', 'completion-checker'])
      assert.doesNotMatch(r.stdout, new RegExp(`^${other}$`, 'm'));
    const docs = renderChart([REQUIRED]);
    for (const d of ofKind(docs, 'Deployment')) {
      const c = d.spec?.template?.spec.containers[0];
      assert.equal(c?.env?.find((e) => e.name === 'LOGFERRY_SERVICE')?.value, c?.args?.[0], d.metadata.name);
    }
    const bad = await runCli(['config', 'check'], { ...env, LOGFERRY_SERVICE: 'nonsense' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /LOGFERRY_SERVICE must be all or one of .*sqs-poller/);
  });

  it('reports every endpoint of sqs-poller as ok and exits 0', async () => {
    const r = await runCli(['config', 'check', '--service', 'sqs-poller'], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}configuration: parsed$/m);
    assert.match(r.stdout, /^ {2}ok {4}Service Bus: send to s3-objects: link open/m);
    assert.match(r.stdout, /^ {2}ok {4}AWS credentials \(default chain\): obtained/m);
    assert.match(r.stdout, /^ {2}ok {4}SQS queue: .*code42-events: 0 waiting, WITHOUT a redrive policy/m);
    assert.match(r.stdout, /All checks passed/);
  });

  it('checks the routes file: valid routes listed by name, a bad entry named with its field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logferry-routes-'));
    try {
      const routed = { ...env, S3_ALLOWED_BUCKETS: '', ROUTES_FILE: join(REPO_ROOT, 'routes.json') };
      const good = await runCli(['config', 'check', '--service', 'sqs-poller'], routed);
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(
        good.stdout,
        /^ {2}ok {4}routes file .*routes\.json: 3 routes valid \(Code42FileEvents, Code42Audit, VpcFlowLogs\)$/m,
      );
      const bad = join(dir, 'routes.json');
      await writeFile(
        bad,
        JSON.stringify({ VpcFlowLogs: { match: { bucket: 'code42-logs' }, format: 'xml', adx: true } }),
      );
      const r = await runCli(['config', 'check', '--service', 'sqs-poller'], { ...routed, ROUTES_FILE: bad });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^ {2}FAIL {2}routes file .*: entry "VpcFlowLogs": format: /m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the unreachable endpoint and why, keeps checking the others, and exits 1', async () => {
    const dead = await freePort();
    const r = await runCli(['config', 'check', '--service', 'sqs-poller', '--timeout', '3000'], {
      ...env,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${dead}`,
      SQS_QUEUE_URL: `http://127.0.0.1:${dead}/000000000000/code42-events`,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`^ {2}FAIL {2}SQS queue: .*ECONNREFUSED.*127\\.0\\.0\\.1:${dead}`, 'm'));
    assert.match(r.stdout, /^ {2}ok {4}Service Bus: send to s3-objects/m);
    assert.match(r.stdout, /1 check\(s\) failed/);
  });

  it('reports configuration problems by variable name and never echoes a secret', async () => {
    const secret = 'NotAConnectionString-s3cr3t-value';
    const r = await runCli(['config', 'check', '--service', 'la-uploader'], {
      SERVICEBUS_CONNECTION_STRING: secret,
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^la-uploader$/m);
    assert.match(r.stdout, /FAIL {2}configuration: SERVICEBUS_CONNECTION_STRING is invalid/);
    assert.match(r.stdout, /FAIL {2}configuration: LOGS_INGESTION_ENDPOINT is required but not set/);
    assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'the secret value is never printed');
  });
});
