import type { Logger } from 'pino';
import type { Subscription } from '../transport/port.ts';
import { type HealthServer, type ReadinessCheck, startHealthServer } from './health.ts';
import { cachedCheck, dependencyHealth, type PointReadable, tableReadable } from './readiness.ts';

export interface ConsumerHealthOptions {
  readonly port: number;
  readonly logger: Logger;
  readonly transport: { ready(): Promise<boolean> };
  readonly statusTable: PointReadable;
  /** The service's own staging-container check (cached here), since each service reads it differently. */
  readonly stagingContainer: ReadinessCheck;
  /** The subscription once start() made it: none yet reads as not ready. */
  readonly subscription: () => Subscription | undefined;
}

/**
 * The health server of a service that consumes one subscription into a status table and a staging container
 * (s3-fetcher, la-uploader): ready when Service Bus, both stores and the subscription answer and no declared
 * dependency has failed for every message, with each breaker in the /readyz detail.
 */
export function startConsumerHealth(options: ConsumerHealthOptions): Promise<HealthServer> {
  const { subscription, transport } = options;
  const dependencies = dependencyHealth(() => {
    const running = subscription();
    return running ? [running] : [];
  });
  return startHealthServer({
    port: options.port,
    logger: options.logger,
    details: dependencies.details,
    checks: {
      dependencies: dependencies.check,
      serviceBus: () => transport.ready(),
      statusTable: cachedCheck(tableReadable(options.statusTable)),
      stagingContainer: cachedCheck(options.stagingContainer),
      subscription: async () => subscription()?.healthy ?? false,
    },
  });
}
