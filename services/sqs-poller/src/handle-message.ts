import type { S3AllowList } from '@logferry/shared/auth/aws-allow-list';
import type { Logger } from '@logferry/shared/logging/logger';
import type { S3ObjectMessage } from '@logferry/shared/messages/index';
import type { Publisher } from '@logferry/shared/transport/port';
import { parseNotification } from './parse-notification.ts';
import type { PollerMetrics } from './poller-metrics.ts';
import { toS3ObjectMessage } from './to-message.ts';

export interface ReceivedMessage {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
}

/** Delete once handled; leave for redelivery (publish failed) or for the queue's redrive policy (poison). */
export type MessageDecision =
  | { readonly action: 'delete' }
  | { readonly action: 'leave'; readonly reason: string; readonly publishFailed: boolean };

export interface MessageHandlerDeps {
  readonly publisher: Publisher;
  readonly allowList: S3AllowList;
  readonly logger: Logger;
  readonly metrics: PollerMetrics;
  readonly now?: () => Date;
}

/**
 * One SQS message: publish one `s3-objects` message per allowed object, and say whether the SQS
 * message may be deleted. Only a durable publish of every object allows deletion (at-least-once).
 */
export async function handleSqsMessage(msg: ReceivedMessage, deps: MessageHandlerDeps): Promise<MessageDecision> {
  const { logger, metrics } = deps;
  const log = logger.child({ sqsMessageId: msg.messageId, receiveCount: msg.receiveCount });
  const parsed = parseNotification(msg.body);
  if (parsed.kind === 'not-a-notification') {
    // Not ours to judge as garbage: the queue's redrive policy moves it to its dead-letter queue.
    log.warn({ reason: parsed.reason }, 'SQS message is not an S3 notification; leaving it for the redrive policy');
    metrics.dropped('not-a-notification');
    return { action: 'leave', reason: parsed.reason, publishFailed: false };
  }

  const now = deps.now?.() ?? new Date();
  const byId = new Map<string, S3ObjectMessage>();
  const poison: string[] = [];
  for (const record of parsed.records) {
    if (record.verdict === 'ignore') {
      log.info(
        { reason: record.reason, detail: record.detail, origin: parsed.origin },
        'acknowledged and dropped a record',
      );
      metrics.dropped(record.reason);
      continue;
    }
    if (record.verdict === 'poison') {
      poison.push(record.reason);
      continue;
    }
    const { bucket, key } = record.object;
    const allowed = deps.allowList.check(bucket, key);
    if (!allowed.allowed) {
      log.warn({ bucket, key, reason: allowed.reason }, 'refused an object outside the allow-list');
      metrics.refused(allowed.reason);
      continue;
    }
    const built = toS3ObjectMessage(record.object, parsed.origin, now);
    if (!built.ok) {
      poison.push(`${bucket}/${key}: ${built.reason}`);
      continue;
    }
    byId.set(built.message.id, built.message);
  }

  const messages = [...byId.values()];
  if (messages.length > 0) {
    try {
      await deps.publisher.publish('s3-objects', messages);
    } catch (err) {
      log.error(
        { err: (err as Error).message, objects: messages.length },
        'publish to s3-objects failed; message left for redelivery',
      );
      metrics.publishFailed();
      return { action: 'leave', reason: 'publish failed', publishFailed: true };
    }
    metrics.published(messages.length);
    log.debug({ objects: messages.map((m) => ({ id: m.id, bucket: m.bucket, key: m.key })) }, 'published');
  }

  if (poison.length > 0) {
    // The good objects are published (deterministic ids make the republish on redelivery harmless);
    // the message itself goes to the SQS dead-letter queue where an operator can read it.
    log.warn(
      { reasons: poison.slice(0, 5), count: poison.length },
      'unreadable records; leaving the message for the redrive policy',
    );
    metrics.dropped('poison-record', poison.length);
    return { action: 'leave', reason: poison[0] ?? 'poison', publishFailed: false };
  }
  return { action: 'delete' };
}
