import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '@logferry/shared/logging/logger';
import { type FauxqsHandle, HandlerSpy, startFauxqsServer, waitUntil } from '@logferry/shared/testing';
import type { Subscription, Transport } from '@logferry/shared/transport/port';
import { createServiceBusTransport } from '@logferry/shared/transport/servicebus/index';
import { type ServiceBusStandIn, startServiceBusStandIn } from '@logferry/standins';
import { eventBridge, s3Event, snsWrapped, testEvent } from '../fixtures.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

describe('sqs-poller as a process', () => {
  let fauxqs: FauxqsHandle;
  let bus: ServiceBusStandIn;
  let sqs: SQSClient;
  let transport: Transport;
  let subscription: Subscription | undefined;
  let child: ChildProcess | undefined;
  const lines: Record<string, unknown>[] = [];

  before(async () => {
    [fauxqs, bus] = await Promise.all([
      startFauxqsServer(),
      startServiceBusStandIn({ logger: createLogger('sb', { level: 'silent' }) }),
    ]);
    sqs = fauxqs.sqs();
    transport = createServiceBusTransport({
      connection: { connectionString: bus.connectionString },
      logger: createLogger('test', { level: 'silent' }),
      service: 's3-fetcher',
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await subscription?.stop(1_000);
    await transport.close();
    await Promise.all([bus.close(), fauxqs.stop()]);
  });

  it('publishes announced objects to s3-objects, empties the queue and exits cleanly on SIGTERM', async () => {
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'main-dlq' }));
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn;
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: 'main-notifications',
        Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }) },
      }),
    );
    for (const MessageBody of [
      s3Event({ bucket: 'logs-bucket', encodedKey: 'k%C3%BCr+1.json' }),
      snsWrapped(s3Event({ bucket: 'logs-bucket', encodedKey: 'sns.json' })),
      eventBridge({ bucket: 'logs-bucket', key: 'eb+x.json' }),
      testEvent('logs-bucket'),
      s3Event({ bucket: 'not-allowed', encodedKey: 'x.json' }),
      'garbage',
    ]) {
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody }));
    }

    child = spawn(process.execPath, [MAIN], {
      env: {
        PATH: process.env.PATH,
        ...fauxqs.env(),
        SQS_QUEUE_URL: QueueUrl,
        C42_bucket_name: 'logs-bucket',
        SERVICEBUS_CONNECTION_STRING: bus.connectionString,
        HEALTH_PORT: '0',
        SHUTDOWN_GRACE_MS: '5000',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    let buffered = '';
    child.stdout?.on('data', (d) => {
      buffered += String(d);
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const p of parts) if (p.trim()) lines.push(JSON.parse(p) as Record<string, unknown>);
    });

    const spy = new HandlerSpy<'s3-objects'>();
    subscription = transport.subscribe({
      topic: 's3-objects',
      subscription: 's3-fetcher',
      handler: spy.handler,
      concurrency: 4,
      maxAttempts: 3,
      backoff: { baseMs: 10, maxMs: 100 },
      maxLockRenewalMs: 10_000,
    });
    const got = await spy.waitForCount(3, () => true, 20_000);
    assert.deepEqual(
      got.map((r) => `${r.delivery.body.origin} ${r.delivery.body.key}`).sort(),
      ['eventbridge eb+x.json', 's3-notification kür 1.json', 'sns sns.json'],
      stderr,
    );
    assert.ok(
      got.every((r) => r.delivery.messageId === r.delivery.body.id),
      'message id is the idempotency key',
    );

    // Everything handled is deleted; only the garbage body waits (in flight) for the redrive policy.
    let attrs: Record<string, string> = {};
    await waitUntil(
      'only the garbage body in flight',
      async () => {
        attrs =
          (
            await sqs.send(
              new GetQueueAttributesCommand({
                QueueUrl,
                AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
              }),
            )
          ).Attributes ?? {};
        return attrs.ApproximateNumberOfMessagesNotVisible === '1';
      },
      { timeoutMs: 10_000, intervalMs: 50, diagnostics: () => JSON.stringify(attrs) },
    );
    assert.equal(attrs.ApproximateNumberOfMessages, '0');
    assert.equal(attrs.ApproximateNumberOfMessagesNotVisible, '1');

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0, stderr);
    assert.ok(lines.some((l) => l.msg === 'refused an object outside the allow-list' && l.bucket === 'not-allowed'));
    assert.ok(lines.some((l) => String(l.msg).includes('not an S3 notification')));
    assert.equal(spy.records.length, 3, 'nothing published twice');
  });
});
