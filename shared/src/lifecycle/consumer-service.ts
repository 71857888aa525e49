import type { Subscription } from '../transport/port.ts';
import { startConsumerHealth } from './consumer-health.ts';
import type { ReadinessCheck } from './health.ts';
import type { PointReadable } from './readiness.ts';
import type { ServiceRuntime } from './service-runtime.ts';

export interface StartedConsumer {
  /** The one subscription the service consumes. */
  readonly subscription: Subscription;
  /** Releases the service's own clients (S3, Logs Ingestion) once intake and the transport have stopped. */
  readonly close: () => void | Promise<void>;
}

export interface ConsumerServiceOptions {
  /** HEALTH_PORT. */
  readonly port: number;
  readonly statusTable: PointReadable;
  /** The service's own staging-container check, since each service reads it differently. */
  readonly stagingContainer: ReadinessCheck;
  /** Makes the stores ready and subscribes; resolves once consuming. */
  readonly start: () => Promise<StartedConsumer>;
}

/**
 * Runs a service that consumes one subscription (s3-fetcher, la-uploader): the health server first, so a
 * slow start reads as not ready rather than absent, then start; on shutdown the subscription stops within
 * the grace period before the transport closes, and the service's own clients close last.
 */
export async function runConsumerService(runtime: ServiceRuntime, options: ConsumerServiceOptions): Promise<void> {
  const { transport } = runtime;
  let subscription: Subscription | undefined;
  const health = await startConsumerHealth({
    port: options.port,
    logger: runtime.logger,
    transport,
    statusTable: options.statusTable,
    stagingContainer: options.stagingContainer,
    subscription: () => subscription,
  });
  await runtime.run({
    health,
    async start() {
      const started = await options.start();
      subscription = started.subscription;
      return {
        async stop(graceMs) {
          await started.subscription.stop(graceMs);
          await transport.close();
          await started.close();
        },
      };
    },
  });
}
