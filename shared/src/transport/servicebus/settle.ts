import type { Logger } from 'pino';
import { scrubExternalText } from '../../logging/redact.ts';
import { backoffDelay } from '../backoff.ts';
import { describeRetry, type Outcome } from '../port.ts';
import { classifyError, errorFields } from './errors.ts';
import { MAX_DEAD_LETTER_REASON, MAX_DESCRIPTION, truncate } from './properties.ts';

/** What the broker should be told about one delivery. */
export type Settlement =
  | { readonly kind: 'complete' }
  | { readonly kind: 'deadLetter'; readonly reason: string; readonly description: string }
  | {
      readonly kind: 'retry';
      readonly nextAttempt: number;
      readonly delayMs: number;
      readonly at: Date;
      readonly lastError: string;
      /** Set when the failure belongs to this dependency's outage: the attempt is not used up. */
      readonly outage?: string;
    };

export interface SettlementPolicy {
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly backoff: { readonly baseMs: number; readonly maxMs: number };
  readonly now: number;
  readonly random?: () => number;
  /** The dependency whose breaker is open (or probing) for this failure, and how long intake pauses. */
  readonly outage?: { readonly dependency: string; readonly pauseMs: number };
}

/** Maps a handler's outcome to a settlement; pure, so the policy is testable without a broker. */
export function decideSettlement(outcome: Outcome, policy: SettlementPolicy): Settlement {
  switch (outcome.kind) {
    case 'success':
      return { kind: 'complete' };
    case 'deadLetter':
      return {
        kind: 'deadLetter',
        // A code is short; the cut guards the broker's limit against a reason typed around the union.
        reason: truncate(outcome.reason || 'Unspecified', MAX_DEAD_LETTER_REASON),
        // Descriptions quote dependencies (SDK errors, HTTP bodies, ADX details): scrubbed like a log line.
        description: scrubExternalText(outcome.description, MAX_DESCRIPTION),
      };
    case 'retryLater': {
      const lastError = scrubExternalText(describeRetry(outcome), MAX_DESCRIPTION);
      if (policy.outage) {
        // An outage is not the message's fault: same attempt, back when intake resumes (spread a little).
        const delayMs = Math.max(
          Math.round(outcome.delayMs ?? 0),
          Math.round(policy.outage.pauseMs + (policy.random ?? Math.random)() * policy.backoff.baseMs),
        );
        return {
          kind: 'retry',
          nextAttempt: policy.attempt,
          delayMs,
          at: new Date(policy.now + delayMs),
          lastError,
          outage: policy.outage.dependency,
        };
      }
      if (policy.attempt >= policy.maxAttempts) {
        return { kind: 'deadLetter', reason: 'MaxAttemptsExceeded', description: lastError };
      }
      const requested = outcome.delayMs;
      const delayMs =
        requested !== undefined && Number.isFinite(requested) && requested >= 0
          ? Math.round(requested)
          : backoffDelay(policy.attempt, policy.backoff.baseMs, policy.backoff.maxMs, policy.random);
      return { kind: 'retry', nextAttempt: policy.attempt + 1, delayMs, at: new Date(policy.now + delayMs), lastError };
    }
  }
}

/** Broker operations on one locked delivery. */
export interface SettleOps {
  complete(): Promise<void>;
  abandon(): Promise<void>;
  deadLetter(reason: string, description: string): Promise<void>;
  /** Durably schedules the retry copy; resolves with a best-effort cancel of it. */
  scheduleRetry(nextAttempt: number, at: Date, lastError: string, outage: boolean): Promise<() => Promise<void>>;
}

export type SettleResult = 'completed' | 'deadLettered' | 'retried' | 'abandoned' | 'lockLost' | 'failed';

/**
 * Carries out a settlement. Never throws: a lost lock means the broker redelivers (warn and carry
 * on); any other failure is logged and the lock simply expires, which also ends in a redelivery.
 */
export async function executeSettlement(settlement: Settlement, ops: SettleOps, log: Logger): Promise<SettleResult> {
  const failed = (err: unknown, action: string): SettleResult => {
    if (classifyError(err) === 'lockLost') {
      log.warn({ ...errorFields(err), action }, 'lock lost before settlement; the broker will redeliver');
      return 'lockLost';
    }
    log.error(
      { ...errorFields(err), action },
      'settlement failed; the message will be redelivered when its lock expires',
    );
    return 'failed';
  };
  switch (settlement.kind) {
    case 'complete':
      return ops.complete().then(
        () => 'completed' as const,
        (err) => failed(err, 'complete'),
      );
    case 'deadLetter':
      return ops.deadLetter(settlement.reason, settlement.description).then(
        () => 'deadLettered' as const,
        (err) => failed(err, 'deadLetter'),
      );
    case 'retry': {
      let cancel: () => Promise<void>;
      try {
        cancel = await ops.scheduleRetry(
          settlement.nextAttempt,
          settlement.at,
          settlement.lastError,
          settlement.outage !== undefined,
        );
      } catch (err) {
        // The copy is not durable, so the original must survive: hand it back for redelivery now.
        log.warn({ ...errorFields(err) }, 'could not schedule the retry; abandoning for redelivery instead');
        return ops.abandon().then(
          () => 'abandoned' as const,
          (abandonErr) => failed(abandonErr, 'abandon'),
        );
      }
      try {
        await ops.complete();
        return 'retried';
      } catch (err) {
        // The original will come back; withdraw the copy so the work is not doubled (best effort).
        await cancel().catch((cancelErr) =>
          log.warn({ ...errorFields(cancelErr) }, 'could not cancel the scheduled retry copy; a duplicate may follow'),
        );
        return failed(err, 'complete');
      }
    }
  }
}
