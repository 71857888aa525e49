import type { MessageOf, TopicName } from '../messages/index.ts';
import type { Delivery, Handler, Outcome } from '../transport/port.ts';

export interface SpyRecord<T extends TopicName> {
  readonly delivery: Delivery<MessageOf<T>>;
  /** What the wrapped handler returned; undefined while it runs or if it threw. */
  outcome: Outcome | undefined;
  /** What the wrapped handler threw, if it did. */
  error: unknown;
  readonly startedAt: number;
  finishedAt: number | undefined;
}

interface Waiter<T extends TopicName> {
  readonly predicate: (d: Delivery<MessageOf<T>>) => boolean;
  readonly resolve: (r: SpyRecord<T>) => void;
}

/**
 * Wraps a handler and records every delivery with its outcome, so tests await a specific delivery
 * instead of sleeping. Resolves when the handler has returned (settlement follows right after).
 * It sees what reaches the handler only: a message the transport dead-letters on validation never does, and
 * publishes are not handler outcomes. For those, assert on the broker's records (the Service Bus stand-in's
 * `records`: every publish and settlement, with reason, description and delivery count).
 */
export class HandlerSpy<T extends TopicName> {
  readonly records: SpyRecord<T>[] = [];
  readonly #inner: Handler<T>;
  #waiters: Waiter<T>[] = [];

  constructor(inner: Handler<T> = async () => ({ kind: 'success' })) {
    this.#inner = inner;
  }

  /** The handler to pass to `subscribe`. */
  readonly handler: Handler<T> = async (delivery) => {
    const record: SpyRecord<T> = {
      delivery,
      outcome: undefined,
      error: undefined,
      startedAt: Date.now(),
      finishedAt: undefined,
    };
    this.records.push(record);
    try {
      record.outcome = await this.#inner(delivery);
      return record.outcome;
    } catch (err) {
      record.error = err;
      throw err;
    } finally {
      record.finishedAt = Date.now();
      this.#notify(record);
    }
  };

  /** Handled deliveries (finished) matching the predicate, in arrival order. */
  finished(predicate: (d: Delivery<MessageOf<T>>) => boolean = () => true): SpyRecord<T>[] {
    return this.records.filter((r) => r.finishedAt !== undefined && predicate(r.delivery));
  }

  /** Resolves with the first finished delivery matching the predicate, past or future. */
  waitForMessage(predicate: (d: Delivery<MessageOf<T>>) => boolean, timeoutMs: number): Promise<SpyRecord<T>> {
    const done = this.finished(predicate)[0];
    if (done) return Promise.resolve(done);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<T> = {
        predicate,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        const seen = this.records.map((r) => `${r.delivery.messageId}#${r.delivery.deliveryCount}`).join(', ');
        reject(new Error(`HandlerSpy: no matching delivery within ${timeoutMs} ms (seen: ${seen || 'none'})`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Resolves once `count` finished deliveries match the predicate. */
  async waitForCount(
    count: number,
    predicate: (d: Delivery<MessageOf<T>>) => boolean,
    timeoutMs: number,
  ): Promise<SpyRecord<T>[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.finished(predicate);
      if (matching.length >= count) return matching;
      const seen = new Set(matching);
      await this.waitForMessage((d) => predicate(d) && !this.#isIn(seen, d), Math.max(1, deadline - Date.now()));
    }
  }

  #isIn(seen: Set<SpyRecord<T>>, d: Delivery<MessageOf<T>>): boolean {
    for (const r of seen) if (r.delivery === d) return true;
    return false;
  }

  #notify(record: SpyRecord<T>): void {
    const hit = this.#waiters.filter((w) => w.predicate(record.delivery));
    this.#waiters = this.#waiters.filter((w) => !hit.includes(w));
    for (const w of hit) w.resolve(record);
  }
}
