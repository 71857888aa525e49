// First: corrects rhea's disposition coalescing before the SDK loads it (see the module).
import '../../amqp/rhea-dispositions-fix.ts';
import { isServiceBusError } from '@azure/service-bus';

/**
 * - unrecoverable: the entity or our right to it is gone; retrying cannot help, an operator must act.
 * - transient: the SDK retries and reconnects by itself; we log and back off.
 * - lockLost: the broker will redeliver; the message's outcome no longer matters here.
 */
export type ErrorClass = 'unrecoverable' | 'transient' | 'lockLost' | 'other';

const BY_CODE: Readonly<Record<string, ErrorClass>> = {
  MessagingEntityNotFound: 'unrecoverable',
  UnauthorizedAccess: 'unrecoverable',
  MessagingEntityDisabled: 'unrecoverable',
  ServiceBusy: 'transient',
  ServiceTimeout: 'transient',
  GeneralError: 'transient',
  ServiceCommunicationProblem: 'transient',
  QuotaExceeded: 'transient',
  MessageLockLost: 'lockLost',
  SessionLockLost: 'lockLost',
};

export function classifyError(err: unknown): ErrorClass {
  if (isServiceBusError(err)) return BY_CODE[err.code] ?? 'other';
  return 'other';
}

export function errorCode(err: unknown): string | undefined {
  if (isServiceBusError(err)) return err.code;
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** Fields for a log line; the SDK's messages name the entity but carry no credentials. */
export function errorFields(err: unknown): { err: unknown; code: string | undefined } {
  return { err, code: errorCode(err) };
}
