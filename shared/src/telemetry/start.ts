import { hostname } from 'node:os';
import type { TokenCredential } from '@azure/core-auth';
import * as coreTracing from '@azure/core-tracing';
import { createAzureSdkInstrumentation } from '@azure/opentelemetry-instrumentation-azure-sdk';
import { context, DiagLogLevel, diag, metrics, propagation, trace } from '@opentelemetry/api';
import { type Instrumentation, registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  type IMetricReader,
  InstrumentType,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, NodeTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import type { TelemetryConfig } from '../config/parts.ts';
import { LazyMetricExporter, LazySpanExporter } from './lazy-exporters.ts';

export interface TelemetryOptions {
  readonly service: string;
  readonly config: Partial<
    Pick<TelemetryConfig, 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'OTEL_EXPORTER_OTLP_ENDPOINT'>
  >;
  readonly serviceVersion?: string;
  /** Entra auth for Application Insights when the resource disables local (key) auth. */
  readonly azureCredential?: TokenCredential;
  /** Receives the SDK's own warnings (failed exports); without it they are dropped. */
  readonly logger?: Logger;
  readonly metricExportIntervalMs?: number;
  /** Bound on flushing at shutdown, so an unreachable collector cannot hold up a rolling update. */
  readonly shutdownTimeoutMs?: number;
  /** Extra processors and readers, e.g. in-memory ones in tests. */
  readonly spanProcessors?: readonly SpanProcessor[];
  readonly metricReaders?: readonly IMetricReader[];
}

export interface Telemetry {
  /** Which exporters are active: 'azure-monitor', 'otlp'; empty when only context propagation runs. */
  readonly exporters: readonly string[];
  forceFlush(): Promise<void>;
  /** Flushes and stops; idempotent. Unregisters the global providers so a later start can register again. */
  shutdown(): Promise<void>;
}

// Azure Monitor takes deltas except for up/down counters (as its exporter selects).
const azureTemporality = (type: InstrumentType) =>
  type === InstrumentType.UP_DOWN_COUNTER || type === InstrumentType.OBSERVABLE_UP_DOWN_COUNTER
    ? AggregationTemporality.CUMULATIVE
    : AggregationTemporality.DELTA;

/**
 * Registers tracing and metrics for this process. Call it first in main, before any Azure client is
 * created. Always installs the W3C trace-context propagator and an AsyncLocalStorage context manager,
 * so trace context flows across messages (and into log lines) even when nothing is exported.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const { APPLICATIONINSIGHTS_CONNECTION_STRING: aiConnectionString, OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint } =
    options.config;
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: options.service,
    'service.instance.id': hostname(),
    ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
  });
  const interval = options.metricExportIntervalMs ?? 60_000;
  const spanProcessors = [...(options.spanProcessors ?? [])];
  const readers = [...(options.metricReaders ?? [])];
  const exporters: string[] = [];

  if (aiConnectionString) {
    const connectionString = aiConnectionString;
    const credential = options.azureCredential;
    const azure = import('@azure/monitor-opentelemetry-exporter');
    azure.catch(() => {});
    spanProcessors.push(
      new BatchSpanProcessor(
        new LazySpanExporter(async () => new (await azure).AzureMonitorTraceExporter({ connectionString, credential })),
      ),
    );
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new LazyMetricExporter(
          async () => new (await azure).AzureMonitorMetricExporter({ connectionString, credential }),
          azureTemporality,
        ),
        exportIntervalMillis: interval,
      }),
    );
    exporters.push('azure-monitor');
  }
  if (otlpEndpoint) {
    const base = otlpEndpoint.replace(/\/+$/, '');
    spanProcessors.push(
      new BatchSpanProcessor(
        new LazySpanExporter(
          async () =>
            new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({
              url: `${base}/v1/traces`,
            }),
        ),
      ),
    );
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: new LazyMetricExporter(
          async () =>
            new (await import('@opentelemetry/exporter-metrics-otlp-http')).OTLPMetricExporter({
              url: `${base}/v1/metrics`,
            }),
          () => AggregationTemporality.CUMULATIVE,
        ),
        exportIntervalMillis: interval,
      }),
    );
    exporters.push('otlp');
  }

  if (options.logger) {
    const log = options.logger.child({ component: 'opentelemetry' });
    const warn = (message: string, ...args: unknown[]) => {
      // InstrumentationBase warns that @azure/core-tracing loaded first; patchLoadedCoreTracing below covers it.
      if (args.some((a) => typeof a === 'string' && a.includes('@azure/core-tracing has been loaded before'))) return;
      log.warn({ args }, message);
    };
    const noop = () => {};
    diag.setLogger({ error: warn, warn, info: noop, debug: noop, verbose: noop }, DiagLogLevel.WARN);
  }

  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // Defaults: W3C trace context + baggage propagator, AsyncLocalStorage context manager.
  tracerProvider.register();
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  // The Azure SDKs' spans (one per storage request, Service Bus receive and settle) only cost when no processor
  // takes them: without one, the clients keep core-tracing's no-op instrumenter. Our own spans still carry the
  // trace context across messages and into log lines.
  let unregister = () => {};
  if (spanProcessors.length > 0) {
    const azureSdk = createAzureSdkInstrumentation() as unknown as Instrumentation;
    unregister = registerInstrumentations({ tracerProvider, meterProvider, instrumentations: [azureSdk] });
    patchLoadedCoreTracing(azureSdk);
  }

  let stopped: Promise<void> | undefined;
  const timeoutMs = options.shutdownTimeoutMs ?? 5_000;
  return {
    exporters,
    async forceFlush() {
      await Promise.allSettled([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown() {
      stopped ??= (async () => {
        unregister();
        await withTimeout(Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]), timeoutMs);
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
        diag.disable();
      })();
      return stopped;
    },
  };
}

/**
 * The instrumentation hooks `require`; our services load @azure/core-tracing as ESM, which the hook
 * does not see. Its state is shared between the ESM and CJS builds, so applying the patch to the ESM
 * module installs the OpenTelemetry instrumenter for every Azure client either way.
 */
function patchLoadedCoreTracing(instrumentation: Instrumentation): void {
  const defs = (
    instrumentation as unknown as { getModuleDefinitions?: () => { patch?: (m: unknown, v?: string) => unknown }[] }
  ).getModuleDefinitions?.();
  for (const def of defs ?? []) def.patch?.(coreTracing);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
