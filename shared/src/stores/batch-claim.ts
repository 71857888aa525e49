import type { TableClient } from '@azure/data-tables';
import {
  type BatchStatusEntity,
  type BatchStatusRow,
  batchRowKey,
  fromEntity,
  LABATCH_PARTITION,
  type RecordRange,
  toBatchEntity,
} from './batch-status.ts';
import { isRestStatus } from './work-claim.ts';

/**
 * The claim on a staged batch is its own `labatch` row: a delivery claims the batch by inserting the row
 * (insert-if-absent, so of two deliveries at once exactly one wins), or, when a row is there without a live
 * claim (a crashed holder's, a half-uploaded batch's, or one written before claims lived here), by replacing
 * it under the ETag it was read with. While it works it renews the lease and records progress with writes
 * conditioned on the ETag of its last write, so a holder whose lease lapsed and was taken over learns it
 * (`held` turns false) instead of overwriting the new holder's row. Marking the batch uploaded ends the claim.
 * In the common case that is two table requests per batch: the insert and the final write.
 */
export type BatchClaimResult =
  /** `progress`: the row found and taken over (what a resumed batch continues from); undefined if none was. */
  | { readonly kind: 'claimed'; readonly claim: HeldBatchClaim; readonly progress: BatchStatusRow | undefined }
  | { readonly kind: 'uploaded'; readonly row: BatchStatusRow }
  /** Another delivery holds it; its lease ends at `expiresAt` unless renewed. */
  | { readonly kind: 'busy'; readonly holder: string; readonly expiresAt: Date; readonly retryInMs: number };

/** What the row says about the batch, from its message. */
export interface ClaimedBatch {
  readonly batchId: string;
  readonly records: number;
  readonly stream: string;
  readonly objectId?: string;
  readonly blobName?: string;
}

export interface HeldBatchClaim {
  /** False once a write found the claim taken over (our lease had lapsed): stop before the next side effect. */
  readonly held: boolean;
  /** Records the ranges uploaded so far. A claim found taken over turns `held` false; a table fault throws. */
  saveProgress(progress: {
    readonly records: number;
    readonly uploadedRanges: readonly RecordRange[];
    readonly requests: number;
  }): Promise<void>;
  /** Marks every record uploaded, which ends the claim. Throws on a table fault. */
  markUploaded(done: { readonly records: number; readonly requests: number }): Promise<void>;
  /** Ends the claim without finishing: the row keeps its progress, or goes if nothing was uploaded. Best effort. */
  release(): Promise<void>;
}

export interface BatchClaimsOptions {
  /** How long a claim lasts without renewal: how long a crashed uploader's batch waits. */
  readonly leaseMs: number;
  /** Names the holder in the row (for operators): service, host, pid. */
  readonly owner: string;
  readonly now?: () => number;
}

interface ClaimFields {
  claimOwner?: string;
  claimExpiresAt?: string;
}

type ClaimedEntity = BatchStatusEntity & ClaimFields;

export class BatchClaims {
  readonly #table: TableClient;
  readonly #options: BatchClaimsOptions;
  readonly #now: () => number;

  constructor(table: TableClient, options: BatchClaimsOptions) {
    if (!(options.leaseMs >= 1_000)) throw new RangeError(`claim lease must be >= 1000 ms, got ${options.leaseMs}`);
    this.#table = table;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Claims the batch, or says it is uploaded already, or who holds it and for how long. Throws on a table fault. */
  async acquire(batch: ClaimedBatch): Promise<BatchClaimResult> {
    // A few rounds: a row deleted, released or taken between our insert and our read is looked at again.
    for (let round = 0; round < 3; round++) {
      const fresh: BatchStatusRow = {
        ...batch,
        status: 'partial',
        uploadedRanges: [],
        requests: 0,
        updatedAt: new Date(this.#now()).toISOString(),
      };
      try {
        const res = await this.#table.createEntity(this.#claimed(fresh));
        return { kind: 'claimed', claim: this.#held(fresh, res.etag ?? ''), progress: undefined };
      } catch (err) {
        if (!isRestStatus(err, 409)) throw err;
      }
      let current: ClaimedEntity & { etag: string };
      try {
        current = await this.#table.getEntity<ClaimedEntity>(LABATCH_PARTITION, batchRowKey(batch.batchId));
      } catch (err) {
        if (isRestStatus(err, 404)) continue;
        throw err;
      }
      const row = fromEntity(current);
      if (row.status === 'uploaded') return { kind: 'uploaded', row };
      const expiresAt = Date.parse(current.claimExpiresAt ?? '');
      const left = expiresAt - this.#now();
      if (left > 0) {
        return {
          kind: 'busy',
          holder: current.claimOwner ?? 'unknown',
          expiresAt: new Date(expiresAt),
          retryInMs: left,
        };
      }
      const resumed: BatchStatusRow = {
        ...batch,
        status: 'partial',
        uploadedRanges: row.uploadedRanges,
        requests: row.requests,
        updatedAt: row.updatedAt,
      };
      try {
        const res = await this.#table.updateEntity(this.#claimed(resumed), 'Replace', { etag: current.etag });
        return { kind: 'claimed', claim: this.#held(resumed, res.etag ?? ''), progress: row };
      } catch (err) {
        // 412: another delivery took it over first; 404: it went. Either way, look again.
        if (!(isRestStatus(err, 412) || isRestStatus(err, 404))) throw err;
      }
    }
    throw new Error(`the claim on batch ${batch.batchId} changed hands too often to settle`);
  }

  #claimed(row: BatchStatusRow): ClaimedEntity {
    return {
      ...toBatchEntity(row),
      claimOwner: this.#options.owner,
      claimExpiresAt: new Date(this.#now() + this.#options.leaseMs).toISOString(),
    };
  }

  #held(first: BatchStatusRow, firstEtag: string): HeldBatchClaim {
    const table = this.#table;
    let row = first;
    let etag = firstEtag;
    let held = true;
    let ended = false;
    let writing: Promise<void> = Promise.resolve();
    // One write at a time, each conditioned on the ETag the previous one returned: a renewal never
    // overwrites progress, and a write after a takeover fails with 412 instead of undoing the new holder's.
    const write = (next: () => BatchStatusRow): Promise<void> => {
      const run = writing.then(async () => {
        if (!held) return;
        const target = next();
        try {
          const res = await table.updateEntity(this.#claimed(target), 'Replace', { etag });
          etag = res.etag ?? etag;
          row = target;
        } catch (err) {
          if (isRestStatus(err, 412) || isRestStatus(err, 404)) held = false;
          else throw err;
        }
      });
      writing = run.catch(() => {});
      return run;
    };
    // A third of the lease: two renewals may fail (a table blip) before the claim can lapse.
    const timer = setInterval(
      () => {
        // A renewal that meets a table fault is tried again next tick.
        if (!ended && held) write(() => row).catch(() => {});
      },
      Math.floor(this.#options.leaseMs / 3),
    );
    timer.unref();
    const stopRenewing = async () => {
      clearInterval(timer);
      await writing;
    };
    const now = () => new Date(this.#now()).toISOString();
    return {
      get held() {
        return held;
      },
      saveProgress: (progress) =>
        write(() => ({
          ...row,
          records: progress.records,
          uploadedRanges: progress.uploadedRanges,
          requests: progress.requests,
          updatedAt: now(),
        })),
      markUploaded: async (done) => {
        await stopRenewing();
        const at = now();
        // Unconditional: every record is in, so `uploaded` is the truth whoever holds the claim now (a holder
        // that took over a lapsed lease stops at its next conditional write). Writing it without the claim
        // fields is what ends the claim.
        await table.upsertEntity(
          toBatchEntity({
            ...row,
            status: 'uploaded',
            records: done.records,
            uploadedRanges: [{ start: 0, end: done.records }],
            requests: done.requests,
            updatedAt: at,
            uploadedAt: at,
          }),
          'Replace',
        );
        ended = true;
        held = false;
      },
      release: async () => {
        if (ended) return;
        ended = true;
        await stopRenewing();
        if (!held) return;
        held = false;
        try {
          if (row.uploadedRanges.length === 0) {
            // Nothing reached the sink: leave no row, as if this delivery had not been.
            await table.deleteEntity(LABATCH_PARTITION, batchRowKey(row.batchId), { etag });
          } else {
            await table.updateEntity(toBatchEntity(row), 'Replace', { etag });
          }
        } catch {
          // Taken over, gone, or a table fault: the lease ends the claim either way.
        }
      },
    };
  }
}
