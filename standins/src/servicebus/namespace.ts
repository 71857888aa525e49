import { type Message, newUuid } from './codec.ts';
import type { Topology } from './config.ts';
import { type Lock, ReceiverQueue, type StoredMessage } from './queue.ts';
import { BrokerRecorder, messageIdOf } from './records.ts';
import { renderMessage } from './render-message.ts';
import { isDuplicate, newSendTarget, normalizePath, type SendTarget } from './send-target.ts';

export type Settlement =
  | { type: 'complete' }
  | { type: 'abandon'; props?: Record<string, unknown> }
  | { type: 'release' }
  | { type: 'defer'; props?: Record<string, unknown> }
  | { type: 'deadLetter'; reason?: string; description?: string; props?: Record<string, unknown> };

export interface Delivered {
  stored: StoredMessage;
  token: string | undefined;
  payload: Buffer;
}

const MAX_TIMER_MS = 2 ** 31 - 1;
const SCHEDULED_ANNOTATION = 'x-opt-scheduled-enqueue-time';

/** All broker state: entities from the topology, messages, locks, schedules. In memory only. */
export class Namespace {
  readonly targets = new Map<string, SendTarget>();
  readonly receivers = new Map<string, ReceiverQueue>();
  readonly locks = new Map<string, Lock>();
  /** Sends dropped by duplicate detection (for tests and the inspector). */
  duplicatesDropped = 0;
  /** Every publish and settlement the broker saw (the end-to-end tests' spy). */
  readonly records = new BrokerRecorder();
  readonly #listeners = new Set<(queues: ReceiverQueue[]) => void>();
  #dirty = new Set<ReceiverQueue>();
  #flushQueued = false;
  #closed = false;
  /** As loaded from Config.json (the administration endpoint lists entities from it). */
  readonly topology: Topology;

  constructor(topology: Topology) {
    this.topology = topology;
    const host = {
      locks: { add: (l: Lock) => this.locks.set(l.token, l), delete: (t: string) => this.locks.delete(t) },
      changed: (q: ReceiverQueue) => this.#changed(q),
      onLockExpired: (l: Lock) => this.#onLockExpired(l),
    };
    const addReceiver = (queue: ReceiverQueue): ReceiverQueue => {
      this.receivers.set(queue.path.toLowerCase(), queue);
      if (queue.deadLetter) this.receivers.set(queue.deadLetter.path.toLowerCase(), queue.deadLetter);
      return queue;
    };
    for (const q of topology.queues.values()) {
      const receiver = addReceiver(new ReceiverQueue(q.name, q.settings, host, true));
      this.targets.set(q.name.toLowerCase(), newSendTarget(q.name, [receiver], q.duplicateDetection));
    }
    for (const t of topology.topics.values()) {
      const receivers = [...t.subscriptions.values()].map((s) =>
        addReceiver(new ReceiverQueue(`${t.name}/Subscriptions/${s.name}`, s.settings, host, true)),
      );
      this.targets.set(t.name.toLowerCase(), newSendTarget(t.name, receivers, t.duplicateDetection));
    }
  }

  /** Called with the queues whose state changed, once per microtask; pumps consumers and wakes waiters. */
  onChange(listener: (queues: ReceiverQueue[]) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  sendTarget(path: string): SendTarget | undefined {
    return this.targets.get(normalizePath(path));
  }

  receiver(path: string): ReceiverQueue | undefined {
    return this.receivers.get(normalizePath(path));
  }

  /** True for anything a client may name: a send target, a receiver, or either's `$management` node. */
  exists(path: string): boolean {
    const p = normalizePath(path).replace(/\/\$management$/, '');
    return this.targets.has(p) || this.receivers.has(p);
  }

  /**
   * Enqueues on every receiver of the target; honours a scheduled-enqueue-time annotation as the service does.
   * With duplicate detection, a message id already accepted within the window is acknowledged to the sender
   * and dropped, as Service Bus does (scheduling counts as the send; the window runs from the first send).
   */
  publish(target: SendTarget, messages: Message[], now = Date.now()): number[] {
    return messages.map((message) => {
      if (message.message_id === undefined || message.message_id === null) message.message_id = newUuid();
      if (target.dedup && isDuplicate(target.dedup, messageIdOf(message), now)) {
        this.duplicatesDropped++;
        this.records.recordPublish(target.name, message, true);
        return target.nextSequence++;
      }
      this.records.recordPublish(target.name, message, false);
      const due = message.message_annotations?.[SCHEDULED_ANNOTATION] as unknown;
      const dueAt = due instanceof Date ? due.getTime() : typeof due === 'number' ? due : undefined;
      const sequence = target.nextSequence++;
      if (dueAt !== undefined && dueAt > now) this.#schedule(target, message, sequence, dueAt);
      else this.#fanOut(target, message, sequence, now);
      return sequence;
    });
  }

  cancelScheduled(target: SendTarget, sequences: number[]): void {
    for (const seq of sequences) {
      const entry = target.scheduled.get(seq);
      if (!entry) continue;
      clearTimeout(entry.timer);
      target.scheduled.delete(seq);
      for (const r of target.receivers) this.#changed(r);
    }
  }

  /** Takes the next message for a consumer: locked in peek-lock mode, gone in receive-and-delete mode. */
  deliver(queue: ReceiverQueue, peekLock: boolean, now = Date.now()): Delivered | undefined {
    const stored = queue.take(now);
    if (!stored) return undefined;
    return this.#handOut(queue, stored, peekLock, now);
  }

  /** Deferred messages by sequence number (the SDK's receiveDeferredMessages). */
  deliverDeferred(queue: ReceiverQueue, sequences: number[], peekLock: boolean, now = Date.now()): Delivered[] {
    const out: Delivered[] = [];
    for (const seq of sequences) {
      const stored = queue.deferred.get(seq);
      if (!stored) continue;
      queue.deferred.delete(seq);
      out.push(this.#handOut(queue, stored, peekLock, now));
    }
    return out;
  }

  /** Applies a settlement by lock token; false means the lock is gone (expired, settled, or never issued). */
  settle(token: string, settlement: Settlement): boolean {
    const lock = this.locks.get(token);
    if (!lock) return false;
    const { queue } = lock;
    const msg = queue.unlock(lock);
    this.records.recordSettlement(queue.path, msg.message, msg.deliveries, settlement);
    const merge = (props?: Record<string, unknown>): void => {
      if (props && Object.keys(props).length > 0) {
        msg.message = { ...msg.message, application_properties: { ...msg.message.application_properties, ...props } };
      }
    };
    switch (settlement.type) {
      case 'complete':
        msg.deferred = false;
        break;
      case 'abandon':
        merge(settlement.props);
        queue.returnMessage(msg);
        break;
      case 'release':
        // A release is "not processed": the attempt does not count against MaxDeliveryCount.
        msg.deliveries = Math.max(0, msg.deliveries - 1);
        queue.enqueue(msg);
        break;
      case 'defer':
        merge(settlement.props);
        queue.defer(msg);
        break;
      case 'deadLetter':
        queue.moveToDeadLetter(msg, settlement.reason, settlement.description, settlement.props);
        break;
    }
    return true;
  }

  renewLock(token: string, now = Date.now()): number | undefined {
    const lock = this.locks.get(token);
    return lock ? lock.queue.renew(lock, now) : undefined;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.targets.values()) {
      for (const s of t.scheduled.values()) clearTimeout(s.timer);
      t.scheduled.clear();
    }
    for (const r of this.receivers.values()) r.dispose();
    this.locks.clear();
    this.#listeners.clear();
  }

  #handOut(queue: ReceiverQueue, stored: StoredMessage, peekLock: boolean, now: number): Delivered {
    const deliveryCount = stored.deliveries;
    stored.deliveries += 1;
    if (!peekLock) {
      this.#changed(queue);
      return { stored, token: undefined, payload: renderMessage(stored, deliveryCount) };
    }
    const token = newUuid();
    const lock = queue.lock(stored, token, now);
    return { stored, token, payload: renderMessage(stored, deliveryCount, lock.lockedUntil) };
  }

  #schedule(target: SendTarget, message: Message, sequence: number, dueAt: number): void {
    const arm = (): NodeJS.Timeout =>
      setTimeout(
        () => {
          const entry = target.scheduled.get(sequence);
          if (!entry || this.#closed) return;
          if (Date.now() < dueAt) {
            entry.timer = arm();
            return;
          }
          target.scheduled.delete(sequence);
          this.#fanOut(target, message, sequence, Date.now());
        },
        Math.min(MAX_TIMER_MS, Math.max(0, dueAt - Date.now())),
      );
    target.scheduled.set(sequence, { message, messageId: messageIdOf(message), dueAt, timer: arm() });
    for (const r of target.receivers) this.#changed(r);
  }

  #fanOut(target: SendTarget, message: Message, sequence: number, now: number): void {
    const messageId = messageIdOf(message);
    for (const queue of target.receivers) {
      const ttl = typeof message.ttl === 'number' && message.ttl > 0 ? message.ttl : queue.settings.defaultTtlMs;
      queue.enqueue({
        sequenceNumber: sequence,
        enqueuedAt: now,
        expiresAt: now + Math.min(ttl, queue.settings.defaultTtlMs),
        messageId,
        message: { ...message },
        deliveries: 0,
      });
    }
  }

  #onLockExpired(lock: Lock): void {
    if (this.locks.get(lock.token) !== lock) return;
    lock.queue.returnMessage(lock.queue.unlock(lock));
  }

  #changed(queue: ReceiverQueue): void {
    this.#dirty.add(queue);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      const queues = [...this.#dirty];
      this.#dirty = new Set();
      if (this.#closed) return;
      for (const listener of this.#listeners) listener(queues);
    });
  }
}
