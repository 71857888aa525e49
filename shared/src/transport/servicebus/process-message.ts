import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { context } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { MessageOf, TopicName } from '../../messages/index.ts';
import type { CircuitBreakers } from '../circuit-breaker.ts';
import { failureLabel } from '../failure-codes.ts';
import { type Delivery, type Outcome, outcome as outcomes, type SubscribeOptions } from '../port.ts';
import { type AppProperties, PROP, readAttempt, stringProp } from './properties.ts';
import type { SenderCache } from './publisher.ts';
import { scheduleRetryCopy } from './retry.ts';
import { decideSettlement, executeSettlement, type Settlement, type SettleOps, type SettleResult } from './settle.ts';
import { endSpan, startProcessSpan, type TransportMetrics, traceparentOf } from './telemetry.ts';
import { decodeAndValidate } from './validation.ts';

/** One locked delivery being handled. */
export interface InFlight {
  readonly message: ServiceBusReceivedMessage;
  readonly controller: AbortController;
  /**
   * handling → settling → done. Whoever moves it out of `handling` owns the settlement: the
   * handler's outcome, or stop() abandoning it past the grace period — never both.
   */
  state: 'handling' | 'settling' | 'released';
  lockLost: boolean;
}

export interface ProcessDeps<T extends TopicName> {
  readonly options: SubscribeOptions<T>;
  readonly receiver: ServiceBusReceiver;
  readonly senders: SenderCache;
  readonly logger: Logger;
  readonly metrics: TransportMetrics;
  /** The subscription's dependency breakers, when it declared dependencies. */
  readonly breakers?: CircuitBreakers;
}

export function isOutcome(value: unknown): value is Outcome {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as {
    kind?: unknown;
    code?: unknown;
    detail?: unknown;
    reason?: unknown;
    description?: unknown;
  };
  if (candidate.kind === 'success') return true;
  if (candidate.kind === 'retryLater')
    return typeof candidate.code === 'string' && typeof candidate.detail === 'string';
  if (candidate.kind === 'deadLetter') {
    return typeof candidate.reason === 'string' && typeof candidate.description === 'string';
  }
  return false;
}

export function settleOps<T extends TopicName>(deps: ProcessDeps<T>, message: ServiceBusReceivedMessage): SettleOps {
  const { receiver, senders, options } = deps;
  return {
    complete: () => receiver.completeMessage(message),
    abandon: () => receiver.abandonMessage(message),
    deadLetter: (deadLetterReason, deadLetterErrorDescription) =>
      receiver.deadLetterMessage(message, { deadLetterReason, deadLetterErrorDescription }),
    scheduleRetry: (nextAttempt, at, lastError, outage) =>
      scheduleRetryCopy(senders.get(options.topic), message, options.subscription, nextAttempt, at, lastError, outage),
  };
}

async function runHandler<T extends TopicName>(
  deps: ProcessDeps<T>,
  delivery: Delivery<MessageOf<T>>,
  log: Logger,
): Promise<{ outcome: Outcome; error?: unknown }> {
  try {
    const outcome: unknown = await deps.options.handler(delivery);
    if (isOutcome(outcome)) return { outcome };
    const error = new TypeError(`handler returned ${JSON.stringify(outcome)?.slice(0, 200)} instead of an Outcome`);
    log.error({ err: error }, 'handler bug: not an outcome; retrying later');
    return { outcome: outcomes.retryLater('HandlerBug', error.message), error };
  } catch (err) {
    // Handlers return outcomes; a throw is a bug. Log the stack, retry in case it is data-dependent.
    log.error({ err }, 'handler threw (a bug); retrying later');
    const detail = `handler threw: ${err instanceof Error ? err.message : String(err)}`;
    return { outcome: outcomes.retryLater('HandlerBug', detail), error: err };
  }
}

/**
 * Validates, hands the delivery to the handler inside a span that continues the publisher's trace,
 * and settles it by the outcome — only after the handler (and so its downstream write) is done.
 */
export async function processDelivery<T extends TopicName>(deps: ProcessDeps<T>, entry: InFlight): Promise<void> {
  const { options, metrics } = deps;
  const { message } = entry;
  const receivedAt = performance.now();
  const props = message.applicationProperties as AppProperties | undefined;
  const attempt = readAttempt(props);
  const messageId = stringProp(props, PROP.originalMessageId) ?? String(message.messageId ?? '');
  // The AMQP header counts prior failed deliveries (0 on the first); the JS SDK passes it through
  // raw while .NET adds one. The port promises 1 on first delivery, as .NET and the portal show it.
  const deliveryCount = (message.deliveryCount ?? 0) + 1;
  const log = deps.logger.child({ messageId, deliveryCount, attempt });
  const attrs = { 'messaging.destination.name': options.topic, subscription: options.subscription };
  metrics.messagesIn.add(1, attrs);

  const { span, ctx } = startProcessSpan(options.topic, options.subscription, props, {
    'messaging.message.id': messageId,
    'messaging.servicebus.message.delivery_count': deliveryCount,
    'logferry.attempt': attempt,
  });
  let spanError: unknown;
  try {
    const decoded = decodeAndValidate(options.topic, message.body);
    let outcome: Outcome;
    if (!decoded.ok) {
      log.warn({ reason: decoded.reason, description: decoded.description }, 'invalid message; dead-lettering');
      outcome = { kind: 'deadLetter', reason: decoded.reason, description: decoded.description };
    } else {
      const delivery: Delivery<MessageOf<T>> = {
        body: decoded.value,
        messageId,
        deliveryCount,
        attempt,
        enqueuedAt: message.enqueuedTimeUtc,
        traceparent: traceparentOf(props),
        signal: entry.controller.signal,
      };
      const ran = await context.with(ctx, () => runHandler(deps, delivery, log));
      outcome = ran.outcome;
      spanError = ran.error;
    }
    span.setAttribute('logferry.outcome', outcome.kind);
    const { result, settlement } = await settle(deps, entry, outcome, attempt, log);
    span.setAttribute('logferry.settlement', result);
    if (result === 'deadLettered' && settlement?.kind === 'deadLetter') {
      metrics.deadLettered.add(1, { ...attrs, reason: failureLabel(settlement.reason) });
    }
    if (result === 'retried') metrics.retried.add(1, attrs);
    metrics.settleLatency.record(performance.now() - receivedAt, { ...attrs, result });
  } catch (err) {
    // Nothing above should throw; if it does, the lock expires and the broker redelivers.
    spanError = err;
    log.error({ err }, 'unexpected error while processing a delivery');
  } finally {
    endSpan(span, spanError);
  }
}

async function settle<T extends TopicName>(
  deps: ProcessDeps<T>,
  entry: InFlight,
  outcome: Outcome,
  attempt: number,
  log: Logger,
): Promise<{ result: SettleResult | 'skipped'; settlement?: Settlement }> {
  // stop() already abandoned it past the grace period.
  if (entry.state !== 'handling') return { result: 'skipped' };
  if (entry.lockLost) {
    log.warn({ outcome: outcome.kind }, 'lock was lost while handling; not settling, the broker redelivers');
    entry.state = 'released';
    return { result: 'lockLost' };
  }
  entry.state = 'settling';
  const blamed = deps.breakers?.record(outcome);
  const settlement = decideSettlement(outcome, {
    attempt,
    maxAttempts: deps.options.maxAttempts,
    backoff: deps.options.backoff,
    now: Date.now(),
    ...(blamed && deps.breakers ? { outage: { dependency: blamed, pauseMs: deps.breakers.pauseLeftMs() } } : {}),
  });
  const result = await executeSettlement(settlement, settleOps(deps, entry.message), log);
  if (result === 'deadLettered' && settlement.kind === 'deadLetter') {
    log.warn({ reason: settlement.reason, description: settlement.description }, 'dead-lettered');
  } else if (result === 'retried' && settlement.kind === 'retry') {
    log.info(
      {
        nextAttempt: settlement.nextAttempt,
        delayMs: settlement.delayMs,
        reason: settlement.lastError,
        ...(settlement.outage ? { outage: settlement.outage } : {}),
      },
      settlement.outage ? 'retry scheduled after the outage pause (attempt not used up)' : 'retry scheduled',
    );
  } else {
    log.debug({ result }, 'settled');
  }
  entry.state = 'released';
  return { result, settlement };
}
