import type { Message } from './codec.ts';
import type { ReceiverSettings } from './config.ts';

/** A message as one receiving entity holds it; fan-out gives every subscription its own copy. */
export interface StoredMessage {
  sequenceNumber: number;
  enqueuedAt: number;
  expiresAt: number;
  messageId: string;
  /** Decoded as the client sent it; broker annotations are added per delivery. */
  message: Message;
  /** Deliveries made so far; the header shows the count before the current one. */
  deliveries: number;
  deferred?: boolean;
  deadLetterSource?: string;
}

export interface Lock {
  token: string;
  message: StoredMessage;
  queue: ReceiverQueue;
  lockedUntil: number;
  timer: NodeJS.Timeout;
}

/** Where lock tokens are looked up from any link or management request, whatever entity they name. */
export interface LockRegistry {
  add(lock: Lock): void;
  delete(token: string): void;
}

/** What a queue needs from the namespace: change notification (pumps consumers, wakes waiters). */
export interface QueueHost {
  locks: LockRegistry;
  changed(queue: ReceiverQueue): void;
  onLockExpired(lock: Lock): void;
}

function insertBySequence(list: StoredMessage[], msg: StoredMessage): void {
  let i = list.length;
  while (i > 0 && (list[i - 1]?.sequenceNumber ?? 0) > msg.sequenceNumber) i--;
  list.splice(i, 0, msg);
}

/** A subscription, a queue, or one of their dead-letter sub-queues: active messages, locks, deferred ones. */
export class ReceiverQueue {
  readonly path: string;
  readonly settings: ReceiverSettings;
  readonly deadLetter: ReceiverQueue | undefined;
  readonly active: StoredMessage[] = [];
  readonly locked = new Map<string, Lock>();
  readonly deferred = new Map<number, StoredMessage>();
  readonly #host: QueueHost;

  constructor(path: string, settings: ReceiverSettings, host: QueueHost, withDeadLetter: boolean) {
    this.path = path;
    this.settings = settings;
    this.#host = host;
    this.deadLetter = withDeadLetter ? new ReceiverQueue(`${path}/$DeadLetterQueue`, settings, host, false) : undefined;
  }

  get isDeadLetterQueue(): boolean {
    return this.path.endsWith('/$DeadLetterQueue');
  }

  enqueue(msg: StoredMessage): void {
    insertBySequence(this.active, msg);
    this.#host.changed(this);
  }

  /** Next deliverable message; expired ones leave first (to the DLQ when the entity says so). */
  take(now: number): StoredMessage | undefined {
    for (;;) {
      const msg = this.active.shift();
      if (!msg) return undefined;
      if (this.isDeadLetterQueue || msg.expiresAt > now) return msg;
      if (this.settings.deadLetterOnExpiration) {
        this.moveToDeadLetter(msg, 'TTLExpiredException', 'The message expired and was dead lettered.');
      }
      this.#host.changed(this);
    }
  }

  lock(msg: StoredMessage, token: string, now: number): Lock {
    const lock: Lock = {
      token,
      message: msg,
      queue: this,
      lockedUntil: now + this.settings.lockDurationMs,
      timer: setTimeout(() => this.#host.onLockExpired(lock), this.settings.lockDurationMs),
    };
    this.locked.set(token, lock);
    this.#host.locks.add(lock);
    this.#host.changed(this);
    return lock;
  }

  renew(lock: Lock, now: number): number {
    clearTimeout(lock.timer);
    lock.lockedUntil = now + this.settings.lockDurationMs;
    lock.timer = setTimeout(() => this.#host.onLockExpired(lock), this.settings.lockDurationMs);
    return lock.lockedUntil;
  }

  unlock(lock: Lock): StoredMessage {
    clearTimeout(lock.timer);
    this.locked.delete(lock.token);
    this.#host.locks.delete(lock.token);
    this.#host.changed(this);
    return lock.message;
  }

  /** Abandon, release or lock loss: back in line, or to the DLQ once the delivery budget is spent. */
  returnMessage(msg: StoredMessage): void {
    if (!this.isDeadLetterQueue && msg.deliveries >= this.settings.maxDeliveryCount) {
      this.moveToDeadLetter(
        msg,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      );
      return;
    }
    this.enqueue(msg);
  }

  defer(msg: StoredMessage): void {
    msg.deferred = true;
    this.deferred.set(msg.sequenceNumber, msg);
    this.#host.changed(this);
  }

  moveToDeadLetter(msg: StoredMessage, reason?: string, description?: string, props?: Record<string, unknown>): void {
    if (!this.deadLetter) {
      // A DLQ has no DLQ of its own: dead-lettering there just keeps the message.
      this.enqueue(msg);
      return;
    }
    const appProps: Record<string, unknown> = { ...(msg.message.application_properties ?? {}), ...(props ?? {}) };
    if (reason !== undefined) appProps.DeadLetterReason = reason;
    if (description !== undefined) appProps.DeadLetterErrorDescription = description;
    msg.deferred = false;
    this.deadLetter.enqueue({
      ...msg,
      message: { ...msg.message, application_properties: appProps },
      deadLetterSource: this.path,
    });
  }

  /** Everything still in the entity from a sequence number on, locked and deferred messages included. */
  peek(fromSequence: number, count: number): StoredMessage[] {
    const all = [...this.active, ...[...this.locked.values()].map((l) => l.message), ...this.deferred.values()];
    return all
      .filter((m) => m.sequenceNumber >= fromSequence)
      .sort((a, b) => a.sequenceNumber - b.sequenceNumber)
      .slice(0, count);
  }

  /** Drops every lock timer; the broker is shutting down. */
  dispose(): void {
    for (const lock of this.locked.values()) clearTimeout(lock.timer);
    this.locked.clear();
    this.deadLetter?.dispose();
  }
}
