import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import Long from 'long';
import type { SubscriptionRef } from './topology.ts';

export interface DeadLetter {
  readonly messageId: string;
  readonly sequenceNumber: number;
  readonly enqueuedAt: string | undefined;
  readonly deliveryCount: number;
  readonly reason: string | undefined;
  readonly description: string | undefined;
  readonly subject: string | undefined;
  /** `logferry-retry-for` when the message was a retry copy addressed to one subscription. */
  readonly retryFor: string | undefined;
  readonly body: string;
}

export function describeDeadLetter(m: ServiceBusReceivedMessage): DeadLetter {
  const props = (m.applicationProperties ?? {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  return {
    messageId: String(m.messageId ?? ''),
    sequenceNumber: Number(m.sequenceNumber ?? 0),
    enqueuedAt: m.enqueuedTimeUtc?.toISOString(),
    deliveryCount: m.deliveryCount ?? 0,
    reason: m.deadLetterReason ?? str(props.DeadLetterReason),
    description: m.deadLetterErrorDescription ?? str(props.DeadLetterErrorDescription),
    subject: m.subject,
    retryFor: str(props['logferry-retry-for']),
    body: bodyText(m.body),
  };
}

export function bodyText(body: unknown): string {
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return typeof body === 'string' ? body : JSON.stringify(body);
}

/** Peeks (no lock, no delivery count change) up to `max` dead-lettered messages, oldest first. */
export async function peekDeadLetters(
  client: ServiceBusClient,
  ref: SubscriptionRef,
  max: number,
): Promise<ServiceBusReceivedMessage[]> {
  return peekFromStart(client, ref, max, { subQueueType: 'deadLetter' });
}

/**
 * Peeks up to `max` messages of a subscription (or its dead-letter queue) from its first sequence number on.
 * The start is explicit: without it the SDK continues after the last message this *client* peeked on the
 * entity (its management link remembers), so a long-lived client would see each message once only.
 */
export async function peekFromStart(
  client: ServiceBusClient,
  ref: SubscriptionRef,
  max: number,
  options: { subQueueType?: 'deadLetter' } = {},
): Promise<ServiceBusReceivedMessage[]> {
  const receiver = client.createReceiver(ref.topic, ref.subscription, { ...options, skipParsingBodyAsJson: true });
  try {
    const out: ServiceBusReceivedMessage[] = [];
    let from = Long.ONE;
    while (out.length < max) {
      const page = await receiver.peekMessages(Math.min(100, max - out.length), { fromSequenceNumber: from });
      if (page.length === 0) break;
      out.push(...page);
      const last = page.at(-1)?.sequenceNumber;
      if (last === undefined) break;
      from = Long.fromValue(last).add(1);
    }
    return out;
  } finally {
    await receiver.close();
  }
}
