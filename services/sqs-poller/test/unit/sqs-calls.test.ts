import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '@logferry/shared/logging/logger';
import { deleteMessages } from '../../src/delete-messages.ts';
import { MAX_VISIBILITY_MS, startHeartbeat } from '../../src/visibility-heartbeat.ts';

const logger = createLogger('sqs-poller', { level: 'silent' });

/** Records each command's name and input; answers with what the test scripts. */
function fakeSqs(answer: (name: string, input: Record<string, unknown>) => unknown) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      calls.push({ name: cmd.constructor.name, input: cmd.input });
      return answer(cmd.constructor.name, cmd.input);
    },
  } as unknown as SQSClient;
  return { client, calls };
}

describe('visibility heartbeat', () => {
  it('extends in-progress messages every third of the timeout, never past 12 h from the receive', async () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000_000 });
    try {
      const { client, calls } = fakeSqs((_n, input) => ({
        Successful: (input.Entries as { Id: string }[]).map((e) => ({ Id: e.Id })),
      }));
      const receivedAt = Date.now() - MAX_VISIBILITY_MS + 200_000; // 200 s left of the 12 h
      const hb = startHeartbeat(['r1', 'r2'], receivedAt, {
        sqs: client,
        queueUrl: 'q',
        visibilityTimeoutSeconds: 360,
        logger,
      });
      mock.timers.tick(120_000);
      await new Promise(setImmediate);
      assert.equal(calls.length, 1);
      const entries = calls[0]?.input.Entries as { ReceiptHandle: string; VisibilityTimeout: number }[];
      assert.deepEqual(
        entries.map((e) => e.ReceiptHandle),
        ['r1', 'r2'],
      );
      assert.equal(entries[0]?.VisibilityTimeout, 80, 'capped at what remains of 12 h');

      hb.release('r1');
      mock.timers.tick(120_000);
      await new Promise(setImmediate);
      assert.equal(calls.length, 1, 'nothing left of the 12 h: no more extensions');
      hb.stop();
    } finally {
      mock.timers.reset();
    }
  });
});

describe('deleteMessages', () => {
  it('deletes in batches of ten and retries server-side failures one by one', async () => {
    const { client, calls } = fakeSqs((name, input) => {
      if (name === 'DeleteMessageBatchCommand') {
        const entries = input.Entries as { Id: string }[];
        return {
          Successful: entries.filter((e) => e.Id !== 'm1' && e.Id !== 'm2').map((e) => ({ Id: e.Id })),
          Failed: [
            { Id: 'm1', SenderFault: false, Code: 'InternalError' },
            { Id: 'm2', SenderFault: true, Code: 'ReceiptHandleIsInvalid' },
          ],
        };
      }
      return {};
    });
    const messages = Array.from({ length: 12 }, (_, i) => ({ messageId: `id${i}`, receiptHandle: `rh${i}` }));
    const deleted = await deleteMessages(client, 'q', messages, logger);
    // Batch 1: 8 ok, m1 retried ok, m2 given up. Batch 2 (2 entries): m0 ok, m1 retried ok.
    assert.equal(deleted, 8 + 1 + 1 + 1);
    const singles = calls.filter((c) => c.name === 'DeleteMessageCommand').map((c) => c.input.ReceiptHandle);
    assert.deepEqual(singles, ['rh1', 'rh11']);
    assert.equal(calls.filter((c) => c.name === 'DeleteMessageBatchCommand').length, 2);
  });

  it('falls back to single deletes when the batch call throws', async () => {
    const { client, calls } = fakeSqs((name) => {
      if (name === 'DeleteMessageBatchCommand') throw new Error('socket hang up');
      return {};
    });
    const deleted = await deleteMessages(client, 'q', [{ messageId: 'a', receiptHandle: 'r' }], logger);
    assert.equal(deleted, 1);
    assert.equal(calls.at(-1)?.name, 'DeleteMessageCommand');
  });
});
