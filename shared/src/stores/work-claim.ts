import { randomUUID } from 'node:crypto';
import { RestError, type TableClient } from '@azure/data-tables';
import { encodeRowKey } from './row-key.ts';

/**
 * Claims on units of work (a staged batch, an S3 object), so two deliveries of the same work at the same
 * time do it once. A claim is a row in the shared status table written with insert-if-absent (or, to take
 * over an expired one, a replace conditioned on the ETag it was read with): exactly one writer wins.
 * The holder renews it while it works; a claim left by a crashed worker expires after the lease, so work
 * is never stuck. The work's own status row ("uploaded", "staged") is written before the claim is
 * released, so whoever claims next and re-reads that row sees the work done.
 */
export type ClaimResult =
  | { readonly kind: 'claimed'; readonly claim: HeldClaim }
  /** Another worker holds it; it expires at `expiresAt` unless renewed. */
  | { readonly kind: 'busy'; readonly holder: string; readonly expiresAt: Date; readonly retryInMs: number };

export interface HeldClaim {
  readonly key: string;
  /** False once a renewal found the claim taken over (our lease had lapsed): stop before the side effect. */
  readonly held: boolean;
  /** Deletes the claim (best effort: an expired one is harmless). Stops renewing. */
  release(): Promise<void>;
}

export interface WorkClaimsOptions {
  /** Which kind of work; also the partition (`claim-<scope>`). */
  readonly scope: string;
  /** How long a claim lasts without renewal: how long a crashed worker's work waits. */
  readonly leaseMs: number;
  /** Names the holder in the row (for operators): service, host, pid. */
  readonly owner: string;
  readonly now?: () => number;
}

interface ClaimEntity {
  partitionKey: string;
  rowKey: string;
  owner: string;
  token: string;
  expiresAt: string;
}

export class WorkClaims {
  readonly #table: TableClient;
  readonly #options: WorkClaimsOptions;
  readonly #partition: string;
  readonly #now: () => number;

  constructor(table: TableClient, options: WorkClaimsOptions) {
    if (!(options.leaseMs >= 1_000)) throw new RangeError(`claim lease must be >= 1000 ms, got ${options.leaseMs}`);
    this.#table = table;
    this.#options = options;
    this.#partition = `claim-${options.scope}`;
    this.#now = options.now ?? Date.now;
  }

  /** Takes the claim on `key`, or says who holds it and for how long. Throws on a table fault. */
  async acquire(key: string): Promise<ClaimResult> {
    const rowKey = encodeRowKey(key);
    const token = randomUUID();
    const entity = (): ClaimEntity => ({
      partitionKey: this.#partition,
      rowKey,
      owner: this.#options.owner,
      token,
      expiresAt: new Date(this.#now() + this.#options.leaseMs).toISOString(),
    });
    // Two rounds: a claim deleted or expired between our insert and our read is taken on the second.
    for (let round = 0; round < 2; round++) {
      try {
        const res = await this.#table.createEntity(entity());
        return { kind: 'claimed', claim: this.#held(key, rowKey, token, res.etag ?? '') };
      } catch (err) {
        if (!isRestStatus(err, 409)) throw err;
      }
      let current: ClaimEntity & { etag: string };
      try {
        current = await this.#table.getEntity<ClaimEntity>(this.#partition, rowKey);
      } catch (err) {
        if (isRestStatus(err, 404)) continue;
        throw err;
      }
      const expiresAt = new Date(current.expiresAt);
      const left = expiresAt.getTime() - this.#now();
      if (left > 0) return { kind: 'busy', holder: current.owner, expiresAt, retryInMs: left };
      try {
        const res = await this.#table.updateEntity(entity(), 'Replace', { etag: current.etag });
        return { kind: 'claimed', claim: this.#held(key, rowKey, token, res.etag ?? '') };
      } catch (err) {
        // Someone else took the expired claim first.
        if (isRestStatus(err, 412)) return this.acquire(key);
        if (!isRestStatus(err, 404)) throw err;
      }
    }
    throw new Error(`claim on ${key} changed hands too often to settle`);
  }

  #held(key: string, rowKey: string, token: string, firstEtag: string): HeldClaim {
    let etag = firstEtag;
    let held = true;
    let stopped = false;
    let renewing: Promise<void> = Promise.resolve();
    const renew = async () => {
      try {
        const res = await this.#table.updateEntity(
          {
            partitionKey: this.#partition,
            rowKey,
            owner: this.#options.owner,
            token,
            expiresAt: new Date(this.#now() + this.#options.leaseMs).toISOString(),
          },
          'Replace',
          { etag },
        );
        etag = res.etag ?? etag;
      } catch (err) {
        // 412/404: our lease lapsed and another worker took over. Other faults: try again next tick.
        if (isRestStatus(err, 412) || isRestStatus(err, 404)) held = false;
      }
    };
    // A third of the lease: two renewals may fail (a table blip) before the claim can lapse.
    const timer = setInterval(
      () => {
        if (!stopped && held) renewing = renew();
      },
      Math.floor(this.#options.leaseMs / 3),
    );
    timer.unref();
    return {
      key,
      get held() {
        return held;
      },
      release: async () => {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        // A renewal on the wire would change the ETag under the delete.
        await renewing;
        if (!held) return;
        try {
          await this.#table.deleteEntity(this.#partition, rowKey, { etag });
        } catch {
          // Expired, taken over or a table fault: the lease ends it either way.
        }
      },
    };
  }
}

/** An Azure SDK error answering this HTTP status. */
export function isRestStatus(err: unknown, status: number): boolean {
  return err instanceof RestError && err.statusCode === status;
}

/** The claim's owner name: which service instance holds it, for an operator reading the row. */
export function claimOwner(service: string): string {
  return `${service}@${process.env.HOSTNAME ?? 'local'}:${process.pid}`;
}
