// The kit other end-to-end tests build on (startLocalStack + startServiceProcess), and the commands that
// find a running stack through its state file: seed, scan, status.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  type LocalStack,
  type ServiceProcess,
  startLocalStack,
  startServiceProcess,
  writeStackState,
} from '@logferry/standins';
import { runCli } from '../support/cli.ts';

describe('local stack kit and the commands that use it', () => {
  let stack: LocalStack;
  let scanner: ServiceProcess | undefined;
  let env: Record<string, string>;

  before(async () => {
    stack = await startLocalStack();
    await writeStackState({
      version: 1,
      pid: process.pid,
      startedAt: new Date().toISOString(),
      baseDir: stack.baseDir,
      endpoints: stack.endpoints,
      ports: stack.ports,
    });
    env = { LOGFERRY_STATE_DIR: stack.baseDir };
  });
  after(async () => {
    await scanner?.stop('SIGKILL', 0);
    await stack?.stop();
  });

  it('creates the queue with a redrive policy, the bucket, containers and status table', async () => {
    const attrs = await stack.fauxqs
      .sqs()
      .send(
        new GetQueueAttributesCommand({ QueueUrl: stack.endpoints.sqsQueueUrl, AttributeNames: ['RedrivePolicy'] }),
      );
    assert.match(attrs.Attributes?.RedrivePolicy ?? '', /code42-events-dlq/);
    assert.notEqual(stack.endpoints.sqsDeadLetterQueueUrl, '');
    assert.equal(stack.serviceEnv('la-uploader').NODE_EXTRA_CA_CERTS, stack.endpoints.caCertPath);
    assert.equal(stack.serviceEnv('sqs-poller', { SQS_POLLERS: '1' }).SQS_POLLERS, '1');
  });

  it('supervises a service: ready, logs, SIGKILL, restart', async () => {
    scanner = await startServiceProcess('blob-scanner', stack.serviceEnv('blob-scanner'), { logDir: stack.logDir });
    await scanner.waitForReady(30_000);
    const line = await scanner.waitForLog(/status page and API listening/, 10_000);
    assert.match(line, /"service":"blob-scanner"/);
    const firstPid = scanner.pid;
    assert.equal(await scanner.kill(), 137);
    assert.equal(scanner.running, false);
    await scanner.restart();
    assert.notEqual(scanner.pid, firstPid);
    await scanner.waitForReady(30_000);
    await assert.rejects(scanner.waitForLog(/never logged/, 200), /no log line matching/);
  });

  it('seed adds announced objects and files; scan and status report on them; SIGTERM stops the service with 0', async () => {
    const seeded = await runCli(['seed', '--objects', '2', '--events', '5', '--with-problems'], env);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, /Added 2 objects \(10 events: Code42FileEvents 10\) announced on SQS, and 3 files\./);
    const q = await stack.fauxqs.sqs().send(
      new GetQueueAttributesCommand({
        QueueUrl: stack.endpoints.sqsQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    assert.equal(q.Attributes?.ApproximateNumberOfMessages, '3', 'two objects and the truncated one, each announced');

    const scan = await runCli(['scan', '--interval', '0.2'], env);
    assert.equal(scan.code, 0, scan.stdout + scan.stderr);
    assert.match(scan.stdout, /Scan completed in [\d.]+ s: listed 5, queued 5/);

    const status = await runCli(['status', '--status', 'queued', '--json'], env);
    assert.equal(status.code, 0, status.stderr);
    const report = JSON.parse(status.stdout) as { counts: Record<string, number>; blobs: { blobName: string }[] };
    assert.equal(report.counts.queued, 5);
    assert.equal(report.blobs.length, 5);
    assert.ok(report.blobs.some((b) => b.blobName.endsWith('-malformed.csv')));
    assert.equal(await scanner?.stop('SIGTERM'), 0);
  });

  it('seed without a running stack says how to start one and exits 1', async () => {
    const r = await runCli(['seed']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /npm start/);
  });
});
