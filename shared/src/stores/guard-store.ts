import type { Logger } from 'pino';
import { type Failure, outcome } from '../transport/port.ts';

export type StoreAnswer<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: Failure };

/**
 * A status-table call inside a handler: its failure is an outage, not a bug and not poison, so it
 * becomes `retryLater('StatusTableUnavailable', what)` with the error logged once.
 */
export async function guardStore<T>(log: Logger, what: string, work: () => Promise<T>): Promise<StoreAnswer<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (err) {
    log.warn({ err }, `could not ${what} in the status table; will retry`);
    return { ok: false, failure: outcome.retryLater('StatusTableUnavailable', `could not ${what}`) };
  }
}
