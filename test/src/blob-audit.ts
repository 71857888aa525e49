// What the services published, as the Service Bus stand-in recorded it (stack.serviceBus.records): every
// send the broker accepted, so the tests see all of them without a subscription of their own.
import type { ServiceBusRecords } from '@logferry/standins';

export interface PublishedMessage {
  readonly messageId: string;
  readonly body: Record<string, unknown>;
}

export class ServiceBusAudit {
  readonly #records: ServiceBusRecords;

  constructor(records: ServiceBusRecords) {
    this.#records = records;
  }

  /**
   * Every message producers published to `topic` so far, in order: retry-later copies a consumer scheduled
   * for itself and sends duplicate detection dropped are left out.
   */
  published(topic: 'ingest-requests' | 'ingestion-results'): PublishedMessage[] {
    return this.#records
      .published(topic)
      .filter((p) => p.retryFor === undefined && !p.duplicate)
      .map((p) => ({ messageId: p.messageId, body: objectBody(p.body) }));
  }

  /** How many ingest requests were published per blob name. */
  ingestRequestsPerBlob(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const m of this.published('ingest-requests')) {
      const name = String(m.body.blobName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    return counts;
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null) throw new Error(`unexpected message body: ${String(body)}`);
  return body as Record<string, unknown>;
}
