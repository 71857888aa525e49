// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '@logferry/shared/amqp/rhea-dispositions-fix';
import rhea, { type Delivery } from 'rhea';
import type { Settlement } from './namespace.ts';

const DEAD_LETTER = 'com.microsoft:dead-letter';
export const LOCK_LOST = 'com.microsoft:message-lock-lost';

interface OutcomeState {
  constructor?: { composite_type?: string };
  error?: { condition?: unknown; description?: unknown; info?: unknown };
  undeliverable_here?: boolean;
  delivery_failed?: boolean;
  message_annotations?: unknown;
}

function record(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Buffer.isBuffer(v) ? { ...(v as Record<string, unknown>) } : {};
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * Maps a consumer's disposition to a broker settlement: accepted = complete, released = not processed,
 * modified = abandon (or defer when undeliverable-here), rejected = dead-letter with the SDK's reason fields.
 */
export function outcomeSettlement(state: unknown): Settlement | undefined {
  const s = (state ?? {}) as OutcomeState;
  switch (s.constructor?.composite_type) {
    case 'accepted':
      return { type: 'complete' };
    case 'released':
      return { type: 'release' };
    case 'modified': {
      const props = record(s.message_annotations);
      return s.undeliverable_here ? { type: 'defer', props } : { type: 'abandon', props };
    }
    case 'rejected': {
      const error = s.error ?? {};
      if (error.condition === DEAD_LETTER) {
        const { DeadLetterReason, DeadLetterErrorDescription, ...props } = record(error.info);
        return {
          type: 'deadLetter',
          reason: str(DeadLetterReason),
          description: str(DeadLetterErrorDescription),
          props,
        };
      }
      return { type: 'deadLetter', reason: str(error.condition), description: str(error.description) };
    }
    default:
      return undefined;
  }
}

type OutcomeFactory = Record<
  'accepted' | 'released' | 'modified' | 'rejected',
  (o?: unknown) => { described(): unknown }
>;

const ECHO: Record<Settlement['type'], keyof OutcomeFactory> = {
  complete: 'accepted',
  abandon: 'modified',
  release: 'released',
  defer: 'modified',
  deadLetter: 'rejected',
};

/**
 * The broker settles every peek-lock disposition so the SDK's settle promise resolves. Success echoes the
 * outcome without an error (the SDK rejects on any error); failure carries message-lock-lost, which the SDK
 * maps to ServiceBusError code MessageLockLost.
 */
export function settleBack(delivery: Delivery, settled: Settlement['type'] | undefined): void {
  const outcomes = rhea.message as unknown as OutcomeFactory;
  const state = settled
    ? outcomes[ECHO[settled]]().described()
    : outcomes
        .rejected({
          error: {
            condition: LOCK_LOST,
            description:
              'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
          },
        })
        .described();
  const d = delivery as unknown as { update(settled: boolean, state?: unknown): void; remote_settled: boolean };
  d.update(true, state);
  // The consumer settles in second mode and will not settle again: let rhea free the slot now.
  d.remote_settled = true;
}

export function notFoundError(address: string): { condition: string; description: string } {
  return { condition: 'amqp:not-found', description: `The messaging entity '${address}' could not be found.` };
}
