import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { CreateQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createS3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { createLogger } from '@logferry/shared/logging/logger';
import { type FauxqsHandle, startFauxqsServer } from '@logferry/shared/testing';
import { createSqsPoller, type SqsPoller } from '../../src/poller.ts';

describe('sqs-poller readiness on fauxqs', () => {
  let fauxqs: FauxqsHandle;
  let sqs: SQSClient;
  let poller: SqsPoller | undefined;

  before(async () => {
    fauxqs = await startFauxqsServer();
    sqs = fauxqs.sqs();
  });
  afterEach(async () => {
    await poller?.stop(5_000);
    poller = undefined;
  });
  after(() => fauxqs.stop());

  function create(queueUrl: string): SqsPoller {
    poller = createSqsPoller({
      sqs,
      queueUrl,
      publisher: { publish: async () => undefined },
      allowList: createS3AllowList({ S3_ALLOWED_BUCKETS: ['logs-bucket'], S3_ALLOWED_PREFIXES: [] }),
      logger: createLogger('sqs-poller', { level: 'silent' }),
      pollers: 2,
      visibilityTimeoutSeconds: 30,
      waitTimeSeconds: 1,
      backoff: { baseMs: 20, maxMs: 100 },
    });
    return poller;
  }

  it('is ready once the queue has answered', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'readiness-ok' }));
    const p = create(QueueUrl ?? '');
    assert.equal(p.healthy, false, 'not before start');
    await p.start();
    assert.equal(p.healthy, true);
  });

  it('is never ready on a queue that does not exist', async () => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'readiness-template' }));
    const p = create((QueueUrl ?? '').replace('readiness-template', 'no-such-queue'));
    await p.start();
    const samples: boolean[] = [];
    const deadline = Date.now() + 1_500;
    while (Date.now() < deadline) {
      samples.push(p.healthy);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(
      samples.every((h) => h === false),
      'not ready at any point, also before five receives had failed',
    );
  });
});
