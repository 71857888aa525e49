import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createS3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { createLogger } from '@logferry/shared/logging/logger';
import type { MessageOf, TopicName } from '@logferry/shared/messages/index';
import { type FauxqsHandle, startFauxqsServer, waitUntil } from '@logferry/shared/testing';
import type { Publisher } from '@logferry/shared/transport/port';
import { createSqsPoller, type PollerOptions, type SqsPoller } from '../../src/poller.ts';
import { eventBridge, s3Event, snsWrapped, testEvent } from '../fixtures.ts';

type S3Msg = MessageOf<'s3-objects'>;

/** The port's Publisher, in memory: records what was published; a gate lets a test hold or fail a publish. */
class MemoryPublisher implements Publisher {
  readonly published: S3Msg[] = [];
  calls = 0;
  gate: ((messages: readonly S3Msg[]) => Promise<void>) | undefined;
  async publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void> {
    assert.equal(topic, 's3-objects');
    this.calls += 1;
    const batch = messages as readonly S3Msg[];
    await this.gate?.(batch);
    this.published.push(...batch);
  }
}

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('sqs-poller', {
    level: 'debug',
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  return { logger, lines };
}

async function counts(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(r.Attributes?.ApproximateNumberOfMessages),
    inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('sqs-poller on fauxqs', () => {
  let fauxqs: FauxqsHandle;
  let sqs: SQSClient;
  let dlqArn: string;
  let poller: SqsPoller | undefined;
  let queueNo = 0;

  before(async () => {
    fauxqs = await startFauxqsServer();
    sqs = fauxqs.sqs();
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: 'poller-dlq' }));
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    dlqArn = attrs.Attributes?.QueueArn ?? '';
  });
  afterEach(async () => {
    await poller?.stop(5_000);
    poller = undefined;
  });
  after(() => fauxqs.stop());

  async function queue(redrive = true): Promise<string> {
    const r = await sqs.send(
      new CreateQueueCommand({
        QueueName: `poller-${++queueNo}`,
        Attributes: redrive
          ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 50 }) }
          : {},
      }),
    );
    return r.QueueUrl ?? '';
  }

  async function send(queueUrl: string, ...bodies: string[]): Promise<void> {
    for (const MessageBody of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody }));
  }

  async function start(queueUrl: string, publisher: Publisher, extra: Partial<PollerOptions> = {}) {
    const log = captureLogger();
    poller = createSqsPoller({
      sqs,
      queueUrl,
      publisher,
      allowList: createS3AllowList({ S3_ALLOWED_BUCKETS: ['logs-bucket'], S3_ALLOWED_PREFIXES: [] }),
      logger: log.logger,
      pollers: 2,
      visibilityTimeoutSeconds: 30,
      waitTimeSeconds: 1,
      backoff: { baseMs: 20, maxMs: 200 },
      ...extra,
    });
    await poller.start();
    return { poller, lines: log.lines };
  }

  it('publishes what every notification shape announces and deletes what it handled', async () => {
    const q = await queue();
    await send(
      q,
      s3Event(
        { bucket: 'logs-bucket', encodedKey: 'direct/a+b%2B%C3%A9.json' },
        { bucket: 'logs-bucket', encodedKey: 'direct/plain.gz' },
      ),
      snsWrapped(s3Event({ bucket: 'logs-bucket', encodedKey: 'sns/x+y.json' })),
      eventBridge({ bucket: 'logs-bucket', key: 'eb/k+1.json' }),
      testEvent('logs-bucket'),
      s3Event({ bucket: 'logs-bucket', encodedKey: 'gone.json', eventName: 'ObjectRemoved:Delete' }),
      s3Event({ bucket: 'someone-elses-bucket', encodedKey: 'secrets.json' }),
      'this is not a notification',
    );
    const pub = new MemoryPublisher();
    const { poller, lines } = await start(q, pub);
    await waitUntil('six deletions', () => poller.stats().deleted === 6, { timeoutMs: 10_000, intervalMs: 20 });

    assert.deepEqual(
      pub.published.map((m) => `${m.origin} ${m.bucket}/${m.key}`).sort(),
      [
        's3-notification logs-bucket/direct/a b+é.json',
        's3-notification logs-bucket/direct/plain.gz',
        'eventbridge logs-bucket/eb/k+1.json',
        'sns logs-bucket/sns/x y.json',
      ].sort(),
    );
    const stats = poller.stats();
    assert.equal(stats.refused, 1);
    assert.equal(stats.dropped['test-event'], 1);
    assert.equal(stats.dropped['not-object-created'], 1);
    assert.ok((stats.dropped['not-a-notification'] ?? 0) >= 1);
    const refusal = lines.find((l) => l.msg === 'refused an object outside the allow-list');
    assert.equal(refusal?.bucket, 'someone-elses-bucket');
    assert.equal(refusal?.key, 'secrets.json');
    assert.ok(
      lines.some((l) => l.level === 'warn' && String(l.msg).includes('not an S3 notification') && l.sqsMessageId),
    );

    await poller.stop(5_000);
    // Only the non-notification remains, in flight until its visibility lapses, then on to the redrive policy.
    assert.deepEqual(await counts(sqs, q), { visible: 0, inFlight: 1 });
  });

  it('keeps a slow publish invisible to the other pollers and finishes it on stop', async () => {
    const q = await queue();
    await send(q, s3Event({ bucket: 'logs-bucket', encodedKey: 'slow.json' }));
    const pub = new MemoryPublisher();
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    pub.gate = () => released;
    const { poller } = await start(q, pub, { visibilityTimeoutSeconds: 2 });

    // Five heartbeats at a third of the timeout each: the publish has now outlived the 2 s timeout.
    await waitUntil('heartbeats', () => poller.stats().visibilityExtensions >= 5, {
      timeoutMs: 20_000,
      intervalMs: 20,
    });
    const stopping = poller.stop(10_000);
    release();
    await stopping;

    assert.equal(pub.calls, 1, 'no other poller received the message while it was in progress');
    assert.equal(poller.stats().received, 1);
    assert.equal(poller.stats().deleted, 1, 'stop let the in-flight message finish');
    assert.deepEqual(await counts(sqs, q), { visible: 0, inFlight: 0 });
  });

  it('leaves the message when the publish fails, and delivers it once publishing works again', async () => {
    const q = await queue();
    await send(q, s3Event({ bucket: 'logs-bucket', encodedKey: 'retry.json' }));
    const pub = new MemoryPublisher();
    pub.gate = async () => {
      throw new Error('broker unavailable');
    };
    const { poller } = await start(q, pub, { visibilityTimeoutSeconds: 1 });
    await waitUntil('a failed publish', () => poller.stats().publishFailures >= 1, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    assert.equal(poller.stats().deleted, 0);
    const { visible, inFlight } = await counts(sqs, q);
    assert.equal(visible + inFlight, 1, 'message still on the queue');

    pub.gate = undefined;
    await waitUntil('redelivery and publish', () => poller.stats().deleted === 1, {
      timeoutMs: 10_000,
      intervalMs: 20,
    });
    assert.deepEqual(
      pub.published.map((m) => m.key),
      ['retry.json'],
    );
    assert.deepEqual(await counts(sqs, q), { visible: 0, inFlight: 0 });
  });

  it('warns at start when the queue has no redrive policy', async () => {
    const q = await queue(false);
    const { lines } = await start(q, new MemoryPublisher());
    assert.ok(lines.some((l) => l.level === 'warn' && String(l.msg).includes('no RedrivePolicy')));
  });

  it('publishes the same id for a redelivered notification', async () => {
    const q = await queue();
    const body = s3Event({ bucket: 'logs-bucket', encodedKey: 'twice.json', sequencer: 'ABC' });
    await send(q, body, body);
    const pub = new MemoryPublisher();
    const { poller } = await start(q, pub);
    await waitUntil('both deleted', () => poller.stats().deleted === 2, { timeoutMs: 10_000, intervalMs: 20 });
    assert.equal(pub.published.length, 2);
    assert.equal(pub.published[0]?.id, pub.published[1]?.id);
  });
});
