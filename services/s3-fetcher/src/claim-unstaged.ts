import type { Logger } from '@logferry/shared/logging/logger';
import type { ObjectStatusStore } from '@logferry/shared/stores/object-status';
import type { HeldClaim, WorkClaims } from '@logferry/shared/stores/work-claim';
import type { StageMetrics } from '@logferry/shared/telemetry/metrics';
import { type Outcome, outcome } from '@logferry/shared/transport/port';

/** What claiming an object needs of the handler's dependencies. */
export interface StatusDeps {
  readonly status: ObjectStatusStore;
  readonly claims: Pick<WorkClaims, 'acquire'>;
  readonly metrics?: StageMetrics;
}

/**
 * Success when the object is already staged; retryLater when another delivery holds its claim (or the
 * table fails); otherwise the claim, taken before the first byte is read and the row re-read under it.
 */
export async function claimUnstaged(
  deps: StatusDeps,
  objectId: string,
  signal: AbortSignal,
  log: Logger,
): Promise<Outcome | { readonly claim: HeldClaim }> {
  const before = await alreadyStaged(deps, objectId, signal, log);
  if (before !== false) return before === true ? outcome.success() : before;
  let claimed: Awaited<ReturnType<WorkClaims['acquire']>>;
  try {
    claimed = await deps.claims.acquire(objectId);
  } catch (err) {
    log.warn({ err, objectId }, 'could not claim the object in the status table; will retry');
    return outcome.retryLater('StatusTableUnavailable', 'claim failed');
  }
  if (claimed.kind === 'busy') {
    deps.metrics?.duplicate();
    log.info(
      { objectId, holder: claimed.holder, retryInMs: claimed.retryInMs },
      'object is being staged by another delivery; retrying after its claim',
    );
    return outcome.retryLater('InFlightElsewhere', `object claimed by ${claimed.holder}`, claimed.retryInMs);
  }
  // The holder before us writes `staged` before it releases: re-read under the claim.
  const after = await alreadyStaged(deps, objectId, signal, log);
  if (after !== false) {
    await claimed.claim.release();
    return after === true ? outcome.success() : after;
  }
  return { claim: claimed.claim };
}

async function alreadyStaged(
  deps: StatusDeps,
  objectId: string,
  signal: AbortSignal,
  log: Logger,
): Promise<boolean | Outcome> {
  let row: Awaited<ReturnType<ObjectStatusStore['get']>>;
  try {
    row = await deps.status.get(objectId, { abortSignal: signal });
  } catch (err) {
    log.warn({ err, objectId }, 'could not read the status table; will retry');
    return outcome.retryLater('StatusTableUnavailable', 'read failed');
  }
  if (row?.state !== 'staged') return false;
  deps.metrics?.duplicate();
  log.info(
    { objectId, duplicate: true, batches: row.batchCount, records: row.recordCount },
    'object already staged; skipped',
  );
  return true;
}
