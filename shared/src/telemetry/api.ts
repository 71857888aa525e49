/**
 * The OpenTelemetry API for services: import it from here, never from '@opentelemetry/api' directly.
 *
 * The API keeps its providers in a process-wide global keyed by major version, but a copy ignores a
 * global registered by an older minor version. npm can resolve a service's own import to another copy
 * (the root node_modules held 1.10.0 while shared's SDK registered through shared's 1.9.1); that copy
 * then sees only no-op providers and the service's spans and counters are silently lost. Re-exporting
 * from shared makes every service use the copy the SDK registered with.
 */
export {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  type Meter,
  metrics,
  type ObservableGauge,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
  type UpDownCounter,
} from '@opentelemetry/api';
