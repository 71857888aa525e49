import { readableBody } from './codec.ts';
import type { Namespace } from './namespace.ts';
import type { ReceiverQueue, StoredMessage } from './queue.ts';

export interface EntityCounts {
  active: number;
  scheduled: number;
  deadLetter: number;
  locked: number;
}

export interface DeadLetteredMessage {
  body: unknown;
  reason?: string;
  description?: string;
  applicationProperties: Record<string, unknown>;
  deliveryCount: number;
  messageId: string;
}

function receiverOf(ns: Namespace, entity: string, subscription?: string): ReceiverQueue {
  const path = subscription === undefined ? entity : `${entity}/Subscriptions/${subscription}`;
  const queue = ns.receiver(path);
  if (!queue) throw new Error(`unknown entity: ${path}`);
  return queue;
}

const held = (q: ReceiverQueue): number => q.active.length + q.locked.size + q.deferred.size;

/** Counts for a subscription (or a queue when `subscription` is omitted), as the portal would show them. */
export function countsOf(ns: Namespace, entity: string, subscription?: string): EntityCounts {
  const queue = receiverOf(ns, entity, subscription);
  return {
    active: queue.active.length,
    scheduled: ns.sendTarget(entity)?.scheduled.size ?? 0,
    deadLetter: queue.deadLetter ? held(queue.deadLetter) : 0,
    locked: queue.locked.size,
  };
}

function describe(m: StoredMessage): DeadLetteredMessage {
  const { DeadLetterReason, DeadLetterErrorDescription, ...applicationProperties } =
    m.message.application_properties ?? {};
  return {
    body: readableBody(m.message),
    ...(typeof DeadLetterReason === 'string' ? { reason: DeadLetterReason } : {}),
    ...(typeof DeadLetterErrorDescription === 'string' ? { description: DeadLetterErrorDescription } : {}),
    applicationProperties,
    deliveryCount: m.deliveries,
    messageId: m.messageId,
  };
}

export function deadLettersOf(ns: Namespace, entity: string, subscription?: string): DeadLetteredMessage[] {
  const dlq = receiverOf(ns, entity, subscription).deadLetter;
  return dlq ? dlq.peek(0, Number.MAX_SAFE_INTEGER).map(describe) : [];
}

/** Resolves once a broker state change makes the predicate true; no polling, no sleeps. */
export function waitForState(ns: Namespace, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  if (predicate()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`waitFor: condition not met within ${timeoutMs} ms`));
    }, timeoutMs);
    const stop = ns.onChange(() => {
      let done: boolean;
      try {
        done = predicate();
      } catch (err) {
        clearTimeout(timer);
        stop();
        reject(err);
        return;
      }
      if (done) {
        clearTimeout(timer);
        stop();
        resolve();
      }
    });
  });
}
