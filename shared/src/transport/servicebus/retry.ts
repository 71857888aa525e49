import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusSender } from '@azure/service-bus';
import {
  type AppProperties,
  boundedMessageId,
  MAX_DESCRIPTION,
  PROP,
  readCount,
  stringProp,
  truncate,
} from './properties.ts';

/*
 * How `retryLater` reaches only the subscription that asked for it.
 *
 * A delay needs the broker to hold the message, and the only delayed delivery Service Bus offers
 * is a scheduled message — scheduled on the TOPIC, so it fans out to every subscription. Options:
 *  1. Abandon and let the broker redeliver: no delay at all (abandon redelivers at once), so it
 *     becomes a hot loop that burns MaxDeliveryCount in milliseconds; holding the lock while
 *     sleeping instead ties up a concurrency slot per waiting message for up to backoff.maxMs.
 *  2. Defer the message and schedule a pointer to its sequence number: the pointer fans out just
 *     the same, and a deferred message whose pointer is lost is stranded until it expires.
 *  3. A per-subscription SQL filter (`[logferry-retry-for] IS NULL OR [logferry-retry-for] = '<sub>'`):
 *     exact and free of noise, but it lives in the topology (Config.json, the chart, Azure), and
 *     a missing rule anywhere silently doubles work.
 *  4. (chosen) The copy carries `logferry-retry-for=<subscription>`; every consumer completes and
 *     ignores copies addressed to another subscription. Correct with or without the rule of
 *     option 3 (which stays a recommended optimisation), needs nothing from the topology, keeps
 *     the real delay, and frees the slot at once. Cost: one cheap receive+complete per sibling.
 *
 * The copy is scheduled (durably) before the original is completed, so a crash in between yields
 * a duplicate, never a loss. Its messageId differs from the original's and names the subscription
 * and attempt: with duplicate detection on, a copy reusing the original id inside the detection
 * window would be silently dropped — and the original already completed.
 */

export function buildRetryCopy(
  message: ServiceBusReceivedMessage,
  subscription: string,
  nextAttempt: number,
  lastError: string,
  outage = false,
): ServiceBusMessage {
  const props = (message.applicationProperties ?? {}) as AppProperties;
  const originalId = stringProp(props, PROP.originalMessageId) ?? String(message.messageId ?? '');
  // An outage retry keeps the attempt; its count keeps each copy's id new (duplicate detection).
  const outages = readCount(props, PROP.outageRetries) + (outage ? 1 : 0);
  const applicationProperties: AppProperties = {
    ...props,
    [PROP.attempt]: nextAttempt,
    ...(outages > 0 ? { [PROP.outageRetries]: outages } : {}),
    [PROP.lastError]: truncate(lastError, MAX_DESCRIPTION),
    [PROP.retryFor]: subscription,
    [PROP.originalMessageId]: originalId,
  };
  const copy: ServiceBusMessage = {
    body: message.body,
    messageId: boundedMessageId(
      `${originalId}|retry|${subscription}|${nextAttempt}${outages > 0 ? `|outage${outages}` : ''}`,
    ),
    applicationProperties,
  };
  if (message.contentType !== undefined) copy.contentType = message.contentType;
  if (message.subject !== undefined) copy.subject = message.subject;
  if (message.correlationId !== undefined) copy.correlationId = message.correlationId;
  return copy;
}

/** Schedules the copy on the topic; resolves once the broker holds it, with a best-effort cancel. */
export async function scheduleRetryCopy(
  sender: ServiceBusSender,
  message: ServiceBusReceivedMessage,
  subscription: string,
  nextAttempt: number,
  at: Date,
  lastError: string,
  outage = false,
): Promise<() => Promise<void>> {
  const sequenceNumbers = await sender.scheduleMessages(
    buildRetryCopy(message, subscription, nextAttempt, lastError, outage),
    at,
  );
  return () => sender.cancelScheduledMessages(sequenceNumbers);
}

/** A copy rescheduled by a sibling subscription: not ours to process. */
export function isRetryForOther(message: ServiceBusReceivedMessage, subscription: string): boolean {
  const target = stringProp(message.applicationProperties as AppProperties | undefined, PROP.retryFor);
  return target !== undefined && target !== subscription;
}
