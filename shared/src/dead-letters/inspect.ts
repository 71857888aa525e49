import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
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
  const receiver = client.createReceiver(ref.topic, ref.subscription, {
    subQueueType: 'deadLetter',
    skipParsingBodyAsJson: true,
  });
  try {
    const out: ServiceBusReceivedMessage[] = [];
    while (out.length < max) {
      // The receiver remembers the last peeked sequence number: each call continues after it.
      const page = await receiver.peekMessages(Math.min(100, max - out.length));
      if (page.length === 0) break;
      out.push(...page);
    }
    return out;
  } finally {
    await receiver.close();
  }
}
