// What the broker saw, for end-to-end tests: every publish and every settlement, in order. Tests assert on
// these transport facts (which message was dead-lettered, with which reason; what was published where)
// instead of matching service log text, and await them without sleeping.
import { type Message, readableBody, uuidToString } from './codec.ts';

export interface PublishRecord {
  topic: string;
  messageId: string;
  /** The envelope's `type` (the application property the transport sets, else the body's). */
  type: string | undefined;
  body: unknown;
  /** True when duplicate detection acknowledged the send and dropped it. */
  duplicate: boolean;
  /** The one subscription a retry-later or replayed copy is for (`logferry-retry-for`), else undefined. */
  retryFor: string | undefined;
  /** Why a retry copy was scheduled (`logferry-last-error`: the retry code, then its detail). */
  retryError: string | undefined;
  at: number;
}

export interface SettlementRecord {
  topic: string;
  /** Undefined for a queue. */
  subscription: string | undefined;
  outcome: 'complete' | 'abandon' | 'release' | 'defer' | 'deadLetter';
  messageId: string;
  type: string | undefined;
  body: unknown;
  /** Deliveries including this one (Service Bus's DeliveryCount once received). */
  deliveryCount: number;
  reason?: string;
  description?: string;
  at: number;
}

export type BrokerRecord = ({ kind: 'publish' } & PublishRecord) | ({ kind: 'settlement' } & SettlementRecord);

/** The typed view tests use (as message-queue-toolkit's handler spy, but at the broker). */
export interface BrokerRecords {
  all(): readonly BrokerRecord[];
  published(topic: string): PublishRecord[];
  settlements(topic: string, subscription?: string): SettlementRecord[];
  deadLetters(topic: string, subscription?: string): SettlementRecord[];
  /** Resolves with the first record (already seen or arriving) that matches; rejects after `timeoutMs`. */
  waitFor(predicate: (record: BrokerRecord) => boolean, timeoutMs?: number): Promise<BrokerRecord>;
}

export function messageIdOf(message: Message): string {
  const id = message.message_id as unknown;
  if (Buffer.isBuffer(id)) return uuidToString(id) ?? id.toString('hex');
  return String(id);
}

function typeOf(message: Message, body: unknown): string | undefined {
  const fromProperty = message.application_properties?.type;
  if (typeof fromProperty === 'string') return fromProperty;
  const fromBody = (body as { type?: unknown } | null)?.type;
  return typeof fromBody === 'string' ? fromBody : undefined;
}

/** Splits a receiver path `topic/Subscriptions/name` (or a queue name) into its parts. */
function entityOf(path: string): { topic: string; subscription: string | undefined } {
  const [topic = path, , subscription] = path.split('/');
  return { topic, subscription };
}

const same = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

export class BrokerRecorder implements BrokerRecords {
  readonly #records: BrokerRecord[] = [];
  readonly #waiters = new Set<(record: BrokerRecord) => void>();

  recordPublish(topic: string, message: Message, duplicate: boolean): void {
    const body = readableBody(message);
    const type = typeOf(message, body);
    const text = (name: string): string | undefined => {
      const value = message.application_properties?.[name];
      return typeof value === 'string' ? value : undefined;
    };
    this.#add({
      kind: 'publish',
      topic,
      messageId: messageIdOf(message),
      type,
      body,
      duplicate,
      retryFor: text('logferry-retry-for'),
      retryError: text('logferry-last-error'),
      at: Date.now(),
    });
  }

  recordSettlement(
    receiverPath: string,
    message: Message,
    deliveryCount: number,
    settlement: { type: SettlementRecord['outcome']; reason?: string; description?: string },
  ): void {
    const body = readableBody(message);
    this.#add({
      kind: 'settlement',
      ...entityOf(receiverPath),
      outcome: settlement.type,
      messageId: messageIdOf(message),
      type: typeOf(message, body),
      body,
      deliveryCount,
      ...(settlement.reason === undefined ? {} : { reason: settlement.reason }),
      ...(settlement.description === undefined ? {} : { description: settlement.description }),
      at: Date.now(),
    });
  }

  all(): readonly BrokerRecord[] {
    return this.#records;
  }

  published(topic: string): PublishRecord[] {
    return this.#records.filter(
      (r): r is BrokerRecord & { kind: 'publish' } => r.kind === 'publish' && same(r.topic, topic),
    );
  }

  settlements(topic: string, subscription?: string): SettlementRecord[] {
    return this.#records.filter(
      (r): r is BrokerRecord & { kind: 'settlement' } =>
        r.kind === 'settlement' &&
        same(r.topic, topic) &&
        (subscription === undefined || (r.subscription !== undefined && same(r.subscription, subscription))),
    );
  }

  deadLetters(topic: string, subscription?: string): SettlementRecord[] {
    return this.settlements(topic, subscription).filter((s) => s.outcome === 'deadLetter');
  }

  waitFor(predicate: (record: BrokerRecord) => boolean, timeoutMs = 10_000): Promise<BrokerRecord> {
    const seen = this.#records.find(predicate);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = (record: BrokerRecord): void => {
        let matched: boolean;
        try {
          matched = predicate(record);
        } catch (err) {
          finish();
          reject(err);
          return;
        }
        if (!matched) return;
        finish();
        resolve(record);
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`records.waitFor: no matching publish or settlement within ${timeoutMs} ms`));
      }, timeoutMs);
      const finish = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
  }

  #add(record: BrokerRecord): void {
    this.#records.push(record);
    for (const waiter of [...this.#waiters]) waiter(record);
  }
}
