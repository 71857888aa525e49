import type {
  ProcessErrorArgs,
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
} from '@azure/service-bus';
import type { Logger } from 'pino';
import type { TopicName } from '../../messages/index.ts';
import { type BreakerPolicy, type BreakerSnapshot, CircuitBreakers } from '../circuit-breaker.ts';
import type { SubscribeOptions, Subscription } from '../port.ts';
import { classifyError, errorFields } from './errors.ts';
import { watchLock } from './lock-watch.ts';
import { type InFlight, processDelivery } from './process-message.ts';
import type { SenderCache } from './publisher.ts';
import { isRetryForOther } from './retry.ts';
import type { TransportMetrics } from './telemetry.ts';

/** How long stop() waits, after the grace period, for settlements already on the wire. */
const SETTLING_WAIT_MS = 5_000;

export interface SubscriptionDeps {
  readonly client: ServiceBusClient;
  readonly senders: SenderCache;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
  readonly onUnrecoverable: (err: unknown) => void;
}

/** Used when a consumer declares dependencies without a policy. */
export const DEFAULT_BREAKER_POLICY: BreakerPolicy = { threshold: 5, pauseBaseMs: 5_000, pauseMaxMs: 300_000 };

export class LockLostError extends Error {
  constructor(messageId: string) {
    super(`lock lost on message ${messageId}; the broker will redeliver it`);
    this.name = 'LockLostError';
  }
}

export class ConsumerStoppingError extends Error {
  constructor() {
    super('consumer stopping past its grace period; the message will be redelivered');
    this.name = 'ConsumerStoppingError';
  }
}

function assertOptions(o: SubscribeOptions<TopicName>): void {
  const positiveInt = (n: number) => Number.isInteger(n) && n >= 1;
  if (!positiveInt(o.concurrency)) throw new RangeError(`concurrency must be a positive integer, got ${o.concurrency}`);
  if (!positiveInt(o.maxAttempts)) throw new RangeError(`maxAttempts must be a positive integer, got ${o.maxAttempts}`);
  if (!(o.maxLockRenewalMs >= 0)) throw new RangeError(`maxLockRenewalMs must be >= 0, got ${o.maxLockRenewalMs}`);
  if (!(o.backoff.baseMs >= 0 && o.backoff.maxMs >= o.backoff.baseMs)) {
    throw new RangeError('backoff needs 0 <= baseMs <= maxMs');
  }
}

/** Waits for `work` or `ms`, whichever is first, leaving no timer behind. */
async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A peek-lock consumer of one topic subscription. */
export class ServiceBusSubscription<T extends TopicName> implements Subscription {
  readonly #deps: SubscriptionDeps;
  readonly #options: SubscribeOptions<T>;
  readonly #log: Logger;
  readonly #receiver: ServiceBusReceiver;
  /** The SDK's message pump; undefined while paused for an outage. */
  #intake: { close(): Promise<void> } | undefined;
  /** Ends the SDK's connect-retry loop, whose pauses (30 s by default) would otherwise delay stop(). */
  #intakeAbort = new AbortController();
  readonly #breakers: CircuitBreakers | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #pausing: Promise<void> = Promise.resolve();
  readonly #inFlight = new Map<InFlight, Promise<void>>();
  #healthy = true;
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(deps: SubscriptionDeps, options: SubscribeOptions<T>) {
    assertOptions(options);
    this.#deps = deps;
    this.#options = options;
    this.#log = deps.logger.child({ topic: options.topic, subscription: options.subscription });
    this.#receiver = deps.client.createReceiver(options.topic, options.subscription, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: options.maxLockRenewalMs,
      // We parse JSON ourselves, so an unparsable body is dead-lettered as InvalidJson.
      skipParsingBodyAsJson: true,
    });
    const dependencies = options.dependencies ?? [];
    this.#breakers =
      dependencies.length === 0
        ? undefined
        : new CircuitBreakers(dependencies, options.breaker ?? DEFAULT_BREAKER_POLICY, {
            onChange: (dependency, from, to, pauseMs) => this.#onBreakerChange(dependency, from, to, pauseMs),
          });
    for (const b of this.dependencies()) this.#recordState(b);
    this.#startIntake();
    this.#log.info({ concurrency: options.concurrency, dependencies }, 'subscribed');
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  get paused(): boolean {
    return this.#breakers?.paused ?? false;
  }

  dependencies(): BreakerSnapshot[] {
    return this.#breakers?.snapshot() ?? [];
  }

  #startIntake(): void {
    this.#intakeAbort = new AbortController();
    this.#intake = this.#receiver.subscribe(
      { processMessage: (m) => this.#onMessage(m), processError: (args) => this.#onError(args) },
      {
        autoCompleteMessages: false,
        maxConcurrentCalls: this.#options.concurrency,
        abortSignal: this.#intakeAbort.signal,
      },
    );
  }

  /**
   * Open: stop taking messages (those in flight finish; their failures are outage retries) until the pause
   * is over, then half-open: take messages again, and the first outcome decides. Closed: normal intake.
   */
  #onBreakerChange(dependency: string, from: string, to: string, pauseMs: number | undefined): void {
    const breakers = this.#breakers;
    if (!breakers) return;
    const snapshot = breakers.snapshot().find((b) => b.dependency === dependency);
    if (snapshot) this.#recordState(snapshot);
    const fields = { dependency, from, to, ...(pauseMs !== undefined ? { pauseMs } : {}), since: snapshot?.since };
    if (to === 'open') {
      this.#log.warn(fields, 'dependency failing for every message: pausing intake (no attempts are used up)');
    } else if (to === 'half-open') this.#log.info(fields, 'outage pause over: resuming intake to probe');
    else this.#log.info(fields, 'dependency answering again: intake resumed');
    if (this.#stopping) return;
    if (to === 'open' && this.#intake) {
      const intake = this.#intake;
      this.#intake = undefined;
      // Not awaited here: this runs inside a settlement the SDK's pump may be waiting on.
      this.#pausing = intake.close().catch((err) => this.#log.warn({ err }, 'pausing intake failed'));
    }
    if (to === 'open') this.#armProbe(breakers.pauseLeftMs());
  }

  #recordState(b: BreakerSnapshot): void {
    const value = b.state === 'open' ? 2 : b.state === 'half-open' ? 1 : 0;
    this.#deps.metrics.dependencyState.record(value, {
      dependency: b.dependency,
      'messaging.destination.subscription.name': this.#options.subscription,
    });
  }

  #armProbe(ms: number): void {
    clearTimeout(this.#probeTimer);
    this.#probeTimer = setTimeout(() => {
      void this.#pausing.then(() => {
        if (this.#stopping || !this.#breakers) return;
        this.#breakers.tick();
        if (this.#breakers.paused) return this.#armProbe(Math.max(100, this.#breakers.pauseLeftMs()));
        if (!this.#intake) this.#startIntake();
      });
    }, ms);
    this.#probeTimer.unref();
  }

  get stopped(): boolean {
    return this.#stopped !== undefined;
  }

  async #onMessage(message: ServiceBusReceivedMessage): Promise<void> {
    if (isRetryForOther(message, this.#options.subscription)) {
      // A sibling subscription's retry copy (see retry.ts): acknowledge and drop.
      await this.#receiver.completeMessage(message).catch((err) => {
        this.#log.warn({ ...errorFields(err), messageId: message.messageId }, 'could not drop a sibling retry copy');
      });
      return;
    }
    // While paused for an outage, a message already on its way is still handled: its failure is an outage
    // retry (attempt kept), where handing it back would raise its delivery count towards MaxDeliveryCount.
    if (this.#stopping || !this.#healthy) {
      // Arrived while intake was draining: hand it straight back rather than start work we may not finish.
      await this.#receiver.abandonMessage(message).catch(() => undefined);
      return;
    }
    const entry: InFlight = { message, controller: new AbortController(), state: 'handling', lockLost: false };
    const unwatch = watchLock(
      () => message.lockedUntilUtc,
      () => this.#onLockLost(entry),
    );
    const done = processDelivery(
      {
        ...this.#deps,
        options: this.#options,
        receiver: this.#receiver,
        logger: this.#log,
        ...(this.#breakers ? { breakers: this.#breakers } : {}),
      },
      entry,
    ).finally(() => {
      unwatch();
      this.#inFlight.delete(entry);
    });
    this.#inFlight.set(entry, done);
    await done;
  }

  #onLockLost(entry: InFlight): void {
    if (entry.state !== 'handling') return;
    entry.lockLost = true;
    const messageId = String(entry.message.messageId ?? '');
    this.#log.warn({ messageId, lockedUntil: entry.message.lockedUntilUtc }, 'message lock lost; aborting its handler');
    entry.controller.abort(new LockLostError(messageId));
  }

  async #onError(args: ProcessErrorArgs): Promise<void> {
    const fields = { ...errorFields(args.error), errorSource: args.errorSource, entityPath: args.entityPath };
    if (this.#stopping && args.error instanceof Error && args.error.name === 'AbortError') {
      this.#log.debug(fields, 'receiver initialisation cancelled by stop');
      return;
    }
    switch (classifyError(args.error)) {
      case 'unrecoverable':
        this.#log.error(fields, 'unrecoverable Service Bus error; closing the subscription');
        this.#markUnhealthy(args.error);
        return;
      case 'transient':
        this.#log.warn(fields, 'transient Service Bus error; the SDK retries with backoff');
        return;
      case 'lockLost':
        this.#log.warn(fields, 'lock lost; the broker will redeliver');
        return;
      default:
        this.#log.error(fields, 'Service Bus receiver error');
    }
  }

  #markUnhealthy(err: unknown): void {
    if (!this.#healthy) return;
    this.#healthy = false;
    // Not awaited: processError runs inside the SDK's receive loop, which close() waits on.
    void this.stop(0).catch((stopErr) => this.#log.warn({ err: stopErr }, 'closing an unhealthy subscription failed'));
    try {
      this.#deps.onUnrecoverable(err);
    } catch (cbErr) {
      this.#log.error({ err: cbErr }, 'onUnrecoverable threw');
    }
  }

  stop(graceMs: number): Promise<void> {
    this.#stopped ??= this.#stop(graceMs);
    return this.#stopped;
  }

  async #stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const log = this.#log.child({ inFlight: this.#inFlight.size, graceMs });
    log.info('stopping: intake closed, waiting for in-flight handlers');
    clearTimeout(this.#probeTimer);
    // Suspends the link (drains credit) but keeps it open, so in-flight messages can still settle.
    const closing = (this.#intake?.close() ?? Promise.resolve()).then(() => this.#pausing);
    this.#intakeAbort.abort();
    await closing.catch((err) => log.warn({ err }, 'closing intake failed'));
    await waitAtMost(Promise.allSettled(this.#inFlight.values()), graceMs);

    const abandoned: Promise<unknown>[] = [];
    for (const entry of this.#inFlight.keys()) {
      if (entry.state !== 'handling') continue;
      entry.state = 'released';
      entry.controller.abort(new ConsumerStoppingError());
      abandoned.push(
        this.#receiver
          .abandonMessage(entry.message)
          .catch((err) =>
            log.warn({ ...errorFields(err), messageId: entry.message.messageId }, 'abandon on stop failed'),
          ),
      );
    }
    if (abandoned.length > 0)
      log.warn({ abandoned: abandoned.length }, 'grace period over; abandoning unfinished messages');
    await Promise.all(abandoned);
    const settling = [...this.#inFlight.entries()].filter(([e]) => e.state === 'settling').map(([, p]) => p);
    await waitAtMost(Promise.allSettled(settling), SETTLING_WAIT_MS);
    await this.#receiver.close().catch((err) => log.warn({ err }, 'closing the receiver failed'));
    log.info('stopped');
  }
}
