// What the services published, read from an extra subscription the test adds to each topic: the broker
// copies every message to every subscription, so this one sees all of them without taking any away.
// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import { ServiceBusClient } from '@azure/service-bus';

/** Marks a retry-later copy a consumer rescheduled for itself (shared/src/transport/servicebus/retry.ts). */
const RETRY_FOR = 'logferry-retry-for';

export interface PublishedMessage {
  readonly messageId: string;
  readonly body: Record<string, unknown>;
}

export class ServiceBusAudit {
  readonly #client: ServiceBusClient;
  readonly #subscription: string;

  constructor(connectionString: string, subscription: string) {
    this.#client = new ServiceBusClient(connectionString);
    this.#subscription = subscription;
  }

  /** Every message producers published to `topic` so far (retry copies left out), in order. */
  async published(topic: 'ingest-requests' | 'ingestion-results'): Promise<PublishedMessage[]> {
    const receiver = this.#client.createReceiver(topic, this.#subscription);
    try {
      const out: PublishedMessage[] = [];
      for (;;) {
        // The receiver continues each peek after the last sequence number it saw.
        const batch = await receiver.peekMessages(500);
        if (batch.length === 0) return out;
        for (const m of batch) {
          if (m.applicationProperties?.[RETRY_FOR] !== undefined) continue;
          out.push({ messageId: String(m.messageId), body: decodeBody(m.body) });
        }
      }
    } finally {
      await receiver.close();
    }
  }

  /** How many ingest requests were published per blob name. */
  async ingestRequestsPerBlob(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const m of await this.published('ingest-requests')) {
      const name = String(m.body.blobName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

function decodeBody(body: unknown): Record<string, unknown> {
  const text = Buffer.isBuffer(body) || body instanceof Uint8Array ? Buffer.from(body).toString('utf8') : body;
  const value = typeof text === 'string' ? JSON.parse(text) : text;
  if (typeof value !== 'object' || value === null) throw new Error(`unexpected message body: ${String(value)}`);
  return value as Record<string, unknown>;
}
