import type { ServiceBusClient, ServiceBusMessage, ServiceBusSender } from '@azure/service-bus';
import type { MessageOf, TopicName } from '../../messages/index.ts';
import { type AppProperties, boundedMessageId, PROP } from './properties.ts';
import { endSpan, startPublishSpan, type TransportMetrics, traceProperties } from './telemetry.ts';
import { MessageValidationError, validateMessage } from './validation.ts';

/** One sender per topic, created on first use and kept: a sender is an AMQP link, costly to set up. */
export class SenderCache {
  readonly #client: ServiceBusClient;
  readonly #senders = new Map<TopicName, ServiceBusSender>();

  constructor(client: ServiceBusClient) {
    this.#client = client;
  }

  get(topic: TopicName): ServiceBusSender {
    let sender = this.#senders.get(topic);
    if (sender === undefined || sender.isClosed) {
      sender = this.#client.createSender(topic);
      this.#senders.set(topic, sender);
    }
    return sender;
  }

  async closeAll(): Promise<void> {
    const senders = [...this.#senders.values()];
    this.#senders.clear();
    await Promise.allSettled(senders.map((s) => s.close()));
  }
}

export class MessageTooLargeError extends Error {
  constructor(id: string, maxBytes: number) {
    super(`message ${id} does not fit in one Service Bus message (max ${maxBytes} bytes); use a claim check`);
    this.name = 'MessageTooLargeError';
  }
}

export function toServiceBusMessage(
  message: MessageOf<TopicName>,
  trace: AppProperties,
): ServiceBusMessage & { messageId: string } {
  return {
    body: Buffer.from(JSON.stringify(message), 'utf8'),
    messageId: boundedMessageId(message.id),
    contentType: 'application/json',
    subject: message.type,
    applicationProperties: { [PROP.schemaVersion]: message.schemaVersion, [PROP.producer]: message.producer, ...trace },
  };
}

/**
 * Validates every message before anything is sent (a producer bug must not reach the wire), then
 * sends in as few batches as fit. Resolves once the broker has acknowledged every batch. If a
 * later batch fails after an earlier one was sent, the caller's retry republishes the same ids:
 * consumers are idempotent by id, and duplicate detection (where enabled) drops the repeats.
 */
export async function publishMessages<T extends TopicName>(
  senders: SenderCache,
  metrics: TransportMetrics,
  topic: T,
  messages: readonly MessageOf<T>[],
): Promise<void> {
  const valid = messages.map((m, i) => {
    const result = validateMessage(topic, m);
    if (!result.ok) throw new MessageValidationError(topic, i, result.description);
    return result.value;
  });
  if (valid.length === 0) return;
  const { span, ctx } = startPublishSpan(topic, valid.length);
  try {
    const trace = traceProperties(ctx);
    const sender = senders.get(topic);
    let batch = await sender.createMessageBatch();
    for (const message of valid) {
      const sbMessage = toServiceBusMessage(message, trace);
      if (batch.tryAddMessage(sbMessage)) continue;
      if (batch.count === 0) throw new MessageTooLargeError(message.id, batch.maxSizeInBytes);
      await sender.sendMessages(batch);
      batch = await sender.createMessageBatch();
      if (!batch.tryAddMessage(sbMessage)) throw new MessageTooLargeError(message.id, batch.maxSizeInBytes);
    }
    if (batch.count > 0) await sender.sendMessages(batch);
    metrics.messagesOut.add(valid.length, { 'messaging.destination.name': topic });
    endSpan(span);
  } catch (err) {
    endSpan(span, err);
    throw err;
  }
}
