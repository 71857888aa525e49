import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from '../logging/logger.ts';

export interface LeaderLeaseOptions {
  /** Container of the lock blob (created if missing); never a data container that scans list. */
  readonly container: ContainerClient;
  readonly blobName: string;
  readonly logger: Logger;
  /** What holding the lease means, for log lines: e.g. 'scheduled-scan leadership'. */
  readonly role: string;
  /** Blob leases last 15–60 s or forever; 60 s bounds how long a crashed holder blocks the others. */
  readonly durationSec?: number;
  /** Renew (or try to acquire) this often; a third of the duration leaves two retries before expiry. */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

/**
 * Elects one replica, the holder of a blob lease, for work only one may do (scheduled scans, reading
 * ADX's shared status queues). The holder renews the lease; the others try to acquire it at every
 * interval, so a crashed holder is replaced within about a minute. Holding is assumed lost as soon as
 * the lease may have expired, even if only a renewal failed.
 */
export class LeaderLease {
  readonly #options: LeaderLeaseOptions;
  readonly #leaseId = randomUUID();
  readonly #durationMs: number;
  readonly #now: () => number;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #attempting = false;
  #prepared = false;
  #stopped = false;

  constructor(options: LeaderLeaseOptions) {
    this.#options = options;
    this.#durationMs = (options.durationSec ?? 60) * 1000;
    this.#now = options.now ?? Date.now;
  }

  get held(): boolean {
    // A safety margin: the lease service's clock and ours may disagree by a little.
    return this.#now() < this.#validUntil - 5_000;
  }

  start(): void {
    // One attempt at a time: an attempt slower than the interval, finishing after a later one (or after
    // stop), would otherwise set the lease as held again.
    const run = () => {
      if (this.#attempting) return;
      this.#attempting = true;
      this.#tick = this.#attempt().finally(() => {
        this.#attempting = false;
      });
    };
    run();
    this.#timer = setInterval(run, this.#options.intervalMs ?? Math.floor(this.#durationMs / 3));
    this.#timer.unref();
  }

  /** Resolves after the latest acquire/renew attempt (startup logs, tests). */
  settled(): Promise<void> {
    return this.#tick;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#tick;
    if (this.#validUntil === 0) return;
    this.#validUntil = 0;
    try {
      await this.#lease().releaseLease();
      this.#options.logger.info(`released ${this.#options.role}`);
    } catch {
      /* it expires on its own within the lease duration */
    }
  }

  #lease() {
    return this.#options.container.getBlobClient(this.#options.blobName).getBlobLeaseClient(this.#leaseId);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    const wasHeld = this.held;
    const startedAt = this.#now();
    try {
      await this.#prepare();
      if (this.#validUntil > 0) await this.#lease().renewLease();
      else await this.#lease().acquireLease(this.#durationMs / 1000);
      this.#validUntil = startedAt + this.#durationMs;
      if (!wasHeld) this.#options.logger.info(`acquired ${this.#options.role}`);
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      // 409/412: someone else holds it (or ours expired and was taken): we are a follower now.
      if (status === 409 || status === 412) this.#validUntil = 0;
      else this.#options.logger.warn({ err: error, role: this.#options.role }, 'leader lease request failed');
      if (wasHeld && !this.held) this.#options.logger.warn(`lost ${this.#options.role}: idling`);
      else if (!wasHeld && status === 409)
        this.#options.logger.debug(`another replica holds ${this.#options.role}; idling`);
    }
  }

  async #prepare(): Promise<void> {
    if (this.#prepared) return;
    await this.#options.container.createIfNotExists();
    try {
      // Leases need the blob to exist; If-None-Match keeps replicas from overwriting a leased blob.
      await this.#options.container
        .getBlockBlobClient(this.#options.blobName)
        .upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 412) throw error;
    }
    this.#prepared = true;
  }
}
