import type { TokenCredential } from '@azure/core-auth';
import { lazyAzureCredential } from '../auth/azure-credential.ts';
import type {
  AzureAuthConfig,
  HealthConfig,
  LocalModeConfig,
  ServiceBusConfig,
  TelemetryConfig,
} from '../config/parts.ts';
import { createLogger, type Logger } from '../logging/logger.ts';
import type { ServiceName } from '../messages/index.ts';
import { startTelemetry, type Telemetry } from '../telemetry/start.ts';
import type { Transport } from '../transport/port.ts';
import { serviceBusConnection } from '../transport/servicebus/connection.ts';
import { createServiceBusTransport } from '../transport/servicebus/transport.ts';
import { type RunServiceOptions, runService } from './run-service.ts';

export type RuntimeConfig = Partial<ServiceBusConfig> &
  Partial<AzureAuthConfig> &
  Pick<TelemetryConfig, 'LOG_LEVEL' | 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'OTEL_EXPORTER_OTLP_ENDPOINT'> &
  Pick<HealthConfig, 'SHUTDOWN_GRACE_MS'> &
  Partial<LocalModeConfig>;

export interface ServiceRuntime {
  readonly logger: Logger;
  /** The process's one Azure credential, built on first use (connection-string setups never build it). */
  readonly azure: () => TokenCredential;
  readonly telemetry: Telemetry;
  readonly transport: Transport;
  /**
   * Aborted by an unrecoverable transport error (subscription gone, access revoked). Pass it to
   * runService: the service shuts down in order and exits 1, so Kubernetes restarts it.
   */
  readonly fatal: AbortSignal;
  /** runService with this runtime's logger, telemetry, fatal signal and SHUTDOWN_GRACE_MS: runs until stopped. */
  run(options: Pick<RunServiceOptions, 'health' | 'start'>): Promise<void>;
}

/**
 * What every service's composition root starts with, in this order: the logger, telemetry (before any
 * Azure client, so the SDKs' spans are captured), then the Service Bus transport. Config is parsed by
 * the caller (loadConfigOrExit), once.
 */
export function startServiceRuntime(service: ServiceName, config: RuntimeConfig): ServiceRuntime {
  const logger = createLogger(service, { level: config.LOG_LEVEL });
  const azure = lazyAzureCredential(config);
  const telemetry = startTelemetry({
    service,
    config,
    logger,
    // Entra auth for Application Insights in Azure; local runs use the connection string's key.
    ...(config.APPLICATIONINSIGHTS_CONNECTION_STRING && !config.LOGFERRY_LOCAL ? { azureCredential: azure() } : {}),
  });
  const fatal = new AbortController();
  const transport = createServiceBusTransport({
    connection: serviceBusConnection(config, azure),
    logger,
    service,
    onUnrecoverable: (err) => fatal.abort(err),
  });
  const run = (options: Pick<RunServiceOptions, 'health' | 'start'>) =>
    runService({ service, logger, graceMs: config.SHUTDOWN_GRACE_MS, telemetry, fatal: fatal.signal, ...options });
  return { logger, azure, telemetry, transport, fatal: fatal.signal, run };
}
