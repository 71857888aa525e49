import { createHash } from 'node:crypto';

/** Application property names the adapter reads and writes on every Service Bus message. */
export const PROP = {
  schemaVersion: 'schemaVersion',
  producer: 'producer',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  /** What the Azure SDK's own instrumentation reads and writes (a W3C traceparent). */
  diagnosticId: 'Diagnostic-Id',
  /** Logical attempt across retry-later reschedules; absent means 1. */
  attempt: 'logferry-attempt',
  lastError: 'logferry-last-error',
  /** On a rescheduled copy: the only subscription that may process it (see retry.ts). */
  retryFor: 'logferry-retry-for',
  /** On a rescheduled copy: the messageId the producer gave the message. */
  originalMessageId: 'logferry-original-message-id',
  /** On a rescheduled copy: retries spent waiting out a dependency's outage (they keep the attempt). */
  outageRetries: 'logferry-outage-retries',
} as const;

export type AppProperties = Record<string, number | boolean | string | Date | null>;

/** Service Bus refuses message ids over 128 characters. */
export const MAX_MESSAGE_ID_LENGTH = 128;
export const MAX_DEAD_LETTER_REASON = 128;
export const MAX_DESCRIPTION = 1024;

/**
 * Ids up to 128 characters pass through; longer ones become a stable hash, so broker-side
 * duplicate detection still sees the same id for the same message.
 */
export function boundedMessageId(id: string): string {
  if (id.length <= MAX_MESSAGE_ID_LENGTH) return id;
  return `sha256:${createHash('sha256').update(id).digest('hex')}`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function stringProp(props: AppProperties | undefined, name: string): string | undefined {
  const v = props?.[name];
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** The logical attempt carried by a delivery; anything unreadable counts as the first attempt. */
export function readAttempt(props: AppProperties | undefined): number {
  const v = props?.[PROP.attempt];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** A non-negative integer property; anything unreadable counts as 0. */
export function readCount(props: AppProperties | undefined, name: string): number {
  const v = props?.[name];
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isInteger(n) && n >= 0 ? n : 0;
}
