import { createHash, randomUUID } from 'node:crypto';
import type { ServiceBusClient, ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { assertReplaysTo } from '../manifest.ts';
import type { ServiceName } from '../messages/envelope.ts';
import { SERVICE_BUS_PROPERTIES as PROP } from '../transport/servicebus/index.ts';
import type { SubscriptionRef } from './topology.ts';

export interface ReplayOptions {
  /** Who replays: the manifest must declare that it replays to the subscription's topic (its Send right). */
  readonly service: ServiceName;
  readonly max: number;
  /** Only the message with this id (its messageId, or the original id of a retry copy). */
  readonly id?: string;
  /** Messages looked at when searching for --id, at most. */
  readonly scanLimit: number;
  readonly onProgress?: (done: number, message: ServiceBusReceivedMessage) => void;
}

export interface ReplaySummary {
  readonly replayed: number;
  readonly failed: number;
  readonly lastError?: string;
}

/** Marks the copies one replay run publishes, so that run never replays its own copy dead-lettered again. */
const REPLAY_RUN = 'logferry-replay-run';

const DROPPED = new Set([
  REPLAY_RUN,
  'DeadLetterReason',
  'DeadLetterErrorDescription',
  PROP.attempt,
  PROP.lastError,
  PROP.outageRetries,
  PROP.retryFor,
]);

/**
 * The copy re-published to the topic. It carries `logferry-retry-for=<subscription>`, the same marker the
 * transport puts on retry-later copies (shared/src/transport/servicebus/retry.ts): every other subscription's
 * consumer completes and ignores it, so only the subscription that dead-lettered the message sees it again.
 * Its attempt count starts over (the fix is why it is replayed). The message id is new — with duplicate
 * detection on, reusing the original id inside the window would drop the copy silently — and names the original.
 */
export function buildReplayCopy(
  m: ServiceBusReceivedMessage,
  subscription: string,
  now = new Date(),
  run?: string,
): ServiceBusMessage {
  const props = (m.applicationProperties ?? {}) as Record<string, number | boolean | string | Date | null>;
  const original =
    typeof props[PROP.originalMessageId] === 'string'
      ? String(props[PROP.originalMessageId])
      : String(m.messageId ?? '');
  const kept = Object.fromEntries(Object.entries(props).filter(([k]) => !DROPPED.has(k)));
  const id = `${original}|replay|${subscription}|${now.getTime()}`;
  const copy: ServiceBusMessage = {
    body: m.body,
    messageId: id.length <= 128 ? id : `sha256:${createHash('sha256').update(id).digest('hex')}`,
    applicationProperties: {
      ...kept,
      [PROP.retryFor]: subscription,
      [PROP.originalMessageId]: original,
      'logferry-replayed-at': now.toISOString(),
      ...(run ? { [REPLAY_RUN]: run } : {}),
    },
  };
  if (m.contentType !== undefined) copy.contentType = m.contentType;
  if (m.subject !== undefined) copy.subject = m.subject;
  if (m.correlationId !== undefined) copy.correlationId = m.correlationId;
  return copy;
}

export function matchesId(m: ServiceBusReceivedMessage, id: string): boolean {
  const original = (m.applicationProperties as Record<string, unknown> | undefined)?.[PROP.originalMessageId];
  return m.messageId === id || original === id;
}

/**
 * Receives from the dead-letter queue (peek-lock), publishes each copy to the topic and completes the
 * dead-lettered message only once the publish succeeded: a crash in between leaves a duplicate, never a loss.
 * A failed publish abandons the message (it stays dead-lettered) and ends the replay.
 * Messages skipped by --id stay locked until the end, then are abandoned, so one pass never sees them twice.
 * A copy the handler dead-letters again (the fix did not help) comes back into this queue while the run goes on:
 * it carries this run's id and is left there, so a run replays each message at most once.
 */
export async function replayDeadLetters(
  client: ServiceBusClient,
  ref: SubscriptionRef,
  options: ReplayOptions,
): Promise<ReplaySummary> {
  assertReplaysTo(options.service, ref.topic);
  const receiver = client.createReceiver(ref.topic, ref.subscription, {
    subQueueType: 'deadLetter',
    receiveMode: 'peekLock',
    skipParsingBodyAsJson: true,
  });
  const sender = client.createSender(ref.topic);
  const skipped: ServiceBusReceivedMessage[] = [];
  let replayed = 0;
  let failed = 0;
  let seen = 0;
  let lastError: string | undefined;
  const run = randomUUID();
  try {
    while (replayed < options.max && seen < options.scanLimit && failed === 0) {
      const batch = await receiver.receiveMessages(Math.min(50, options.max - replayed, options.scanLimit - seen), {
        maxWaitTimeInMs: 2_000,
      });
      if (batch.length === 0) break;
      for (const m of batch) {
        seen += 1;
        if ((m.applicationProperties as Record<string, unknown> | undefined)?.[REPLAY_RUN] === run) {
          skipped.push(m);
          continue;
        }
        const wanted = (options.id === undefined || matchesId(m, options.id)) && replayed < options.max && failed === 0;
        if (!wanted) {
          skipped.push(m);
          continue;
        }
        try {
          await sender.sendMessages(buildReplayCopy(m, ref.subscription, new Date(), run));
        } catch (err) {
          failed += 1;
          lastError = (err as Error).message;
          await receiver.abandonMessage(m).catch(() => undefined);
          continue;
        }
        replayed += 1;
        await receiver.completeMessage(m).catch((err: Error) => {
          // Published but still dead-lettered (lock lost): a later replay would publish it again.
          lastError = `published, but completing the dead-lettered copy failed (it may be replayed twice): ${err.message}`;
        });
        options.onProgress?.(replayed, m);
      }
    }
  } finally {
    await Promise.allSettled(skipped.map((m) => receiver.abandonMessage(m)));
    await receiver.close().catch(() => undefined);
    await sender.close().catch(() => undefined);
  }
  return { replayed, failed, ...(lastError ? { lastError } : {}) };
}
