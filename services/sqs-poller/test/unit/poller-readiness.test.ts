import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createS3AllowList } from '@logferry/shared/auth/aws-allow-list';
import { createLogger } from '@logferry/shared/logging/logger';
import { waitUntil } from '@logferry/shared/testing/wait';
import type { Publisher } from '@logferry/shared/transport/port';
import { createSqsPoller } from '../../src/poller.ts';

const logger = createLogger('sqs-poller', { level: 'silent' });
const publisher: Publisher = { publish: async () => undefined };

/** Answers GetQueueAttributes as told, and each ReceiveMessage a few ms later with the current `receive` answer. */
function scriptedSqs(attributes: 'ok' | 'denied') {
  const state = { receive: 'fail' as 'ok' | 'fail', receives: 0 };
  const client = {
    send: async (cmd: { constructor: { name: string } }, options?: { abortSignal?: AbortSignal }) => {
      const name = cmd.constructor.name;
      if (name === 'GetQueueAttributesCommand') {
        if (attributes === 'denied') throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
        return { Attributes: { RedrivePolicy: '{}', VisibilityTimeout: '30' } };
      }
      if (name !== 'ReceiveMessageCommand') throw new Error(`unexpected ${name}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (options?.abortSignal?.aborted) throw new Error('aborted');
      state.receives += 1;
      if (state.receive === 'fail') throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
      return { Messages: [] };
    },
  } as unknown as SQSClient;
  return { client, state };
}

function poller(sqs: SQSClient) {
  return createSqsPoller({
    sqs,
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/000000000000/q',
    publisher,
    allowList: createS3AllowList({ S3_ALLOWED_BUCKETS: ['b'], S3_ALLOWED_PREFIXES: [] }),
    logger,
    pollers: 1,
    visibilityTimeoutSeconds: 30,
    waitTimeSeconds: 1,
    backoff: { baseMs: 1, maxMs: 2 },
  });
}

describe('sqs-poller readiness', () => {
  it('is not ready before SQS has answered, ready after the first successful receive, not after repeated failures', async () => {
    const { client, state } = scriptedSqs('denied');
    const p = poller(client);
    assert.equal(p.healthy, false, 'not ready before start');
    await p.start();
    try {
      assert.equal(p.healthy, false, 'the attribute check failed: nothing has answered yet');
      await waitUntil('a few failed receives', () => state.receives >= 2, { timeoutMs: 5_000, intervalMs: 5 });
      assert.equal(p.healthy, false, 'fewer than five failures, but no success either');

      state.receive = 'ok';
      await waitUntil('ready', () => p.healthy, { timeoutMs: 5_000, intervalMs: 5 });

      state.receive = 'fail';
      const before = state.receives;
      await waitUntil('not ready', () => !p.healthy, { timeoutMs: 5_000, intervalMs: 5 });
      assert.ok(state.receives - before >= 5, 'unready only after repeated failures');

      state.receive = 'ok';
      await waitUntil('ready again', () => p.healthy, { timeoutMs: 5_000, intervalMs: 5 });
    } finally {
      await p.stop(1_000);
    }
  });

  it('is ready once the queue attributes were read at start, before any receive has returned', async () => {
    const { client, state } = scriptedSqs('ok');
    const p = poller(client);
    assert.equal(p.healthy, false);
    await p.start();
    try {
      assert.equal(state.receives, 0);
      assert.equal(p.healthy, true);
      await waitUntil('not ready', () => !p.healthy, { timeoutMs: 5_000, intervalMs: 5 });
      assert.ok(state.receives >= 5);
    } finally {
      await p.stop(1_000);
    }
  });
});
