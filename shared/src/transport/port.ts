import type { MessageOf, TopicName } from '../messages/index.ts';
import type { BreakerPolicy, BreakerSnapshot, Dependency } from './circuit-breaker.ts';
import type { DeadLetterCode, RetryCode } from './failure-codes.ts';

export type { DeadLetterCode, FailureCode, RetryCode } from './failure-codes.ts';

/**
 * What a handler decides about one message. Handlers return an outcome and throw only on bugs;
 * a throw is treated as `retryLater('HandlerBug', …)` (and logged as a bug). Failures carry a code
 * (counted by metric label) apart from their free-text detail.
 */
export type Outcome =
  | { readonly kind: 'success' }
  /** Transient fault: redeliver later with backoff; past `maxAttempts` the message is dead-lettered. */
  | { readonly kind: 'retryLater'; readonly code: RetryCode; readonly detail: string; readonly delayMs?: number }
  /** Permanent fault: redelivery cannot fix it. */
  | { readonly kind: 'deadLetter'; readonly reason: DeadLetterCode; readonly description: string };

export type RetryLater = Extract<Outcome, { readonly kind: 'retryLater' }>;
export type DeadLetter = Extract<Outcome, { readonly kind: 'deadLetter' }>;
export type Failure = RetryLater | DeadLetter;

export const outcome = {
  success: (): Outcome => ({ kind: 'success' }),
  retryLater: (code: RetryCode, detail: string, delayMs?: number): RetryLater =>
    delayMs === undefined ? { kind: 'retryLater', code, detail } : { kind: 'retryLater', code, detail, delayMs },
  deadLetter: (reason: DeadLetterCode, description: string): DeadLetter => ({
    kind: 'deadLetter',
    reason,
    description,
  }),
};

/** The code of a failed outcome: what `logferry.failures` counts it by. */
export function failureCode(failure: Failure): RetryCode | DeadLetterCode {
  return failure.kind === 'retryLater' ? failure.code : failure.reason;
}

/** `Code: detail`, as a retry's last error is shown to operators (dead-letter description, logs). */
export function describeRetry(failure: { readonly code: RetryCode; readonly detail: string }): string {
  return failure.detail ? `${failure.code}: ${failure.detail}` : failure.code;
}

export interface Delivery<T> {
  readonly body: T;
  readonly messageId: string;
  /** Broker redeliveries of this copy (1 on first delivery). */
  readonly deliveryCount: number;
  /** Logical attempt across retry-later reschedules (1 on first). */
  readonly attempt: number;
  readonly enqueuedAt: Date | undefined;
  /** W3C traceparent the publisher attached, if any. */
  readonly traceparent: string | undefined;
  /** Aborted when the lock is lost or the consumer is stopping past its grace period. */
  readonly signal: AbortSignal;
}

export type Handler<T extends TopicName> = (delivery: Delivery<MessageOf<T>>) => Promise<Outcome>;

export interface Publisher {
  /**
   * Publishes to a topic, validating each message against the topic's schema first. Resolves only
   * when the broker has accepted every message (durable); batches internally to stay under size limits.
   */
  publish<T extends TopicName>(topic: T, messages: readonly MessageOf<T>[]): Promise<void>;
}

export interface SubscribeOptions<T extends TopicName> {
  readonly topic: T;
  readonly subscription: string;
  readonly handler: Handler<T>;
  /** Messages handled at once. */
  readonly concurrency: number;
  /** Logical attempts before a `retryLater` becomes a dead-letter. */
  readonly maxAttempts: number;
  /** Base and cap of the exponential backoff (full jitter) for `retryLater`. */
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  /** How long one message may run with its lock renewed. */
  readonly maxLockRenewalMs: number;
  /**
   * What the handler calls. When one fails for every message (retry codes that blame it, `threshold` in a
   * row), intake pauses with backoff and resumes by itself, and those retries do not use up attempts.
   */
  readonly dependencies?: readonly Dependency[];
  readonly breaker?: BreakerPolicy;
}

export interface Subscription {
  /** False once the consumer hit an unrecoverable error (entity missing, unauthorized). */
  readonly healthy: boolean;
  /** True while intake is paused because a dependency is down (see SubscribeOptions.dependencies). */
  readonly paused: boolean;
  /** Each declared dependency's breaker, for /readyz, the logs and the status page. */
  dependencies(): BreakerSnapshot[];
  /** Stops intake, waits up to graceMs for in-flight handlers, abandons the rest, closes the receiver. */
  stop(graceMs: number): Promise<void>;
}

export interface Transport extends Publisher {
  subscribe<T extends TopicName>(options: SubscribeOptions<T>): Subscription;
  /** Cheap liveness check of the connection for /readyz. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
