import { encodeMessage, type Message, wrapLong } from './codec.ts';
import type { StoredMessage } from './queue.ts';

/** Renders a stored message for the wire with the annotations the SDK reads. */
export function renderMessage(msg: StoredMessage, deliveryCount: number, lockedUntil?: number): Buffer {
  const annotations: Record<string, unknown> = { ...(msg.message.message_annotations ?? {}) };
  annotations['x-opt-sequence-number'] = wrapLong(msg.sequenceNumber);
  annotations['x-opt-enqueued-time'] = new Date(msg.enqueuedAt);
  if (lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(lockedUntil);
  if (msg.deadLetterSource) annotations['x-opt-deadletter-source'] = msg.deadLetterSource;
  if (msg.deferred) annotations['x-opt-message-state'] = 1;
  const { delivery_annotations: _dropped, ...rest } = msg.message;
  return encodeMessage({ ...rest, message_annotations: annotations, delivery_count: deliveryCount } as Message);
}
