import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@logferry/shared/logging/logger';

/** SQS refuses to keep a message invisible past 12 hours from its receive. */
export const MAX_VISIBILITY_MS = 12 * 3600 * 1000;

export interface HeartbeatOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly visibilityTimeoutSeconds: number;
  readonly logger: Logger;
  /** Called after each successful extension with the number of messages extended (metrics, tests). */
  readonly onExtended?: (count: number) => void;
}

export interface Heartbeat {
  /** The message is finished (deleted or deliberately left): stop extending it. */
  release(receiptHandle: string): void;
  stop(): void;
}

/**
 * Keeps a batch of received messages invisible while they are being worked on: every third of the
 * visibility timeout each message still in progress gets another full timeout, so a slow publish is
 * not redelivered to another poller, capped at 12 h from the receive.
 */
export function startHeartbeat(
  receiptHandles: readonly string[],
  receivedAt: number,
  options: HeartbeatOptions,
): Heartbeat {
  const inProgress = new Set(receiptHandles);
  const periodMs = Math.max(200, Math.floor((options.visibilityTimeoutSeconds * 1000) / 3));
  let stopped = false;
  let beating: Promise<void> | undefined;

  async function beat(): Promise<void> {
    const remainingS = Math.floor((receivedAt + MAX_VISIBILITY_MS - Date.now()) / 1000);
    const timeout = Math.min(options.visibilityTimeoutSeconds, remainingS);
    const handles = [...inProgress];
    if (timeout <= 0 || handles.length === 0) return;
    for (let i = 0; i < handles.length; i += 10) {
      const chunk = handles.slice(i, i + 10);
      try {
        const r = await options.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: options.queueUrl,
            Entries: chunk.map((h, j) => ({ Id: `m${j}`, ReceiptHandle: h, VisibilityTimeout: timeout })),
          }),
        );
        for (const f of r.Failed ?? []) {
          options.logger.warn({ code: f.Code, reason: f.Message }, 'could not extend message visibility');
        }
        const extended = r.Successful?.length ?? 0;
        if (extended > 0) options.onExtended?.(extended);
      } catch (err) {
        // The next beat retries; if all fail the message is redelivered, which at-least-once tolerates.
        options.logger.warn({ err: (err as Error).message }, 'visibility heartbeat failed');
      }
    }
  }

  const timer = setInterval(() => {
    if (stopped || beating) return;
    beating = beat().finally(() => {
      beating = undefined;
    });
  }, periodMs);
  timer.unref();

  return {
    release(handle) {
      inProgress.delete(handle);
    },
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}
