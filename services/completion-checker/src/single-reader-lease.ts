import { randomUUID } from 'node:crypto';
import type { ContainerClient } from '@azure/storage-blob';
import type { Logger } from '@logferry/shared/logging/logger';

export interface SingleReaderLeaseOptions {
  readonly container: ContainerClient;
  readonly blobName: string;
  readonly logger: Logger;
  /** 15–60 s: how long a crashed holder blocks the next replica. */
  readonly durationSec?: number;
  readonly intervalMs?: number;
}

/**
 * The in-process guard behind the chart's single replica: a blob lease (60 s, renewed every 20 s) held by
 * the one instance allowed to read ADX's status queues. Any other instance (a surge pod during a rollout,
 * a second replica by mistake) idles until the lease is free. Holding is assumed lost once the lease may
 * have expired, even if only a renewal failed.
 */
export class SingleReaderLease {
  readonly #o: SingleReaderLeaseOptions;
  readonly #leaseId = randomUUID();
  readonly #durationMs: number;
  #validUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> = Promise.resolve();
  #prepared = false;
  #stopped = false;

  constructor(options: SingleReaderLeaseOptions) {
    this.#o = options;
    this.#durationMs = (options.durationSec ?? 60) * 1000;
  }

  get held(): boolean {
    return Date.now() < this.#validUntil - 5_000;
  }

  start(): void {
    const run = () => {
      this.#tick = this.#attempt();
    };
    run();
    this.#timer = setInterval(run, this.#o.intervalMs ?? Math.floor(this.#durationMs / 3));
    this.#timer.unref();
  }

  /** Resolves after the latest acquire/renew attempt. */
  settled(): Promise<void> {
    return this.#tick;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#tick;
    if (this.#validUntil === 0) return;
    this.#validUntil = 0;
    await this.#lease()
      .releaseLease()
      .catch(() => undefined); // it expires by itself
    this.#o.logger.info('released the status-queue reader lease');
  }

  #lease() {
    return this.#o.container.getBlobClient(this.#o.blobName).getBlobLeaseClient(this.#leaseId);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    const wasHeld = this.held;
    const startedAt = Date.now();
    try {
      await this.#prepare();
      if (this.#validUntil > 0) await this.#lease().renewLease();
      else await this.#lease().acquireLease(this.#durationMs / 1000);
      this.#validUntil = startedAt + this.#durationMs;
      if (!wasHeld) this.#o.logger.info('holding the status-queue reader lease: reading ADX status queues');
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 409 || status === 412) this.#validUntil = 0;
      else this.#o.logger.warn({ err: error }, 'reader lease request failed');
      if (wasHeld && !this.held) this.#o.logger.warn('lost the status-queue reader lease: idling');
      else if (!wasHeld && status === 409) this.#o.logger.debug('another instance reads the status queues; idling');
    }
  }

  async #prepare(): Promise<void> {
    if (this.#prepared) return;
    await this.#o.container.createIfNotExists();
    try {
      await this.#o.container.getBlockBlobClient(this.#o.blobName).upload('', 0, { conditions: { ifNoneMatch: '*' } });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== 409 && status !== 412) throw error;
    }
    this.#prepared = true;
  }
}
