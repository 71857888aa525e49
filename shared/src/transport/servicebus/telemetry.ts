import {
  type Attributes,
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { boundInstruments, type InstrumentOptions, type StageInstruments } from '../../telemetry/metrics.ts';
import { type AppProperties, PROP, stringProp } from './properties.ts';

/**
 * Only @opentelemetry/api here: the SDK (exporters, propagator, context manager) is registered by
 * the service's telemetry setup, and without it every call below is a no-op.
 */
const TRACER = 'logferry';

export function baseAttributes(topic: string, subscription?: string): Attributes {
  const attrs: Attributes = { 'messaging.system': 'servicebus', 'messaging.destination.name': topic };
  if (subscription !== undefined) attrs['messaging.destination.subscription.name'] = subscription;
  return attrs;
}

/** `<topic> publish`, a PRODUCER span under whatever is active; its context rides on the messages. */
export function startPublishSpan(topic: string, count: number): { span: Span; ctx: Context } {
  const span = trace.getTracer(TRACER).startSpan(
    `${topic} publish`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        ...baseAttributes(topic),
        'messaging.operation.type': 'send',
        'messaging.batch.message_count': count,
      },
    },
    context.active(),
  );
  return { span, ctx: trace.setSpan(context.active(), span) };
}

/** W3C headers for a message, plus `Diagnostic-Id`, which is what the Azure SDK itself reads. */
export function traceProperties(ctx: Context): AppProperties {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  const out: AppProperties = {};
  if (carrier.traceparent) {
    out[PROP.traceparent] = carrier.traceparent;
    out[PROP.diagnosticId] = carrier.traceparent;
  }
  if (carrier.tracestate) out[PROP.tracestate] = carrier.tracestate;
  return out;
}

export function traceparentOf(props: AppProperties | undefined): string | undefined {
  return stringProp(props, PROP.traceparent) ?? stringProp(props, PROP.diagnosticId);
}

/** `<topic> process`, a CONSUMER span whose parent is the span that published the message. */
export function startProcessSpan(
  topic: string,
  subscription: string,
  props: AppProperties | undefined,
  attributes: Attributes,
): { span: Span; ctx: Context } {
  const carrier: Record<string, string> = {};
  const traceparent = traceparentOf(props);
  if (traceparent) carrier.traceparent = traceparent;
  const tracestate = stringProp(props, PROP.tracestate);
  if (tracestate) carrier.tracestate = tracestate;
  const parent = propagation.extract(context.active(), carrier);
  const span = trace.getTracer(TRACER).startSpan(
    `${topic} process`,
    {
      kind: SpanKind.CONSUMER,
      attributes: { ...baseAttributes(topic, subscription), 'messaging.operation.type': 'process', ...attributes },
    },
    parent,
  );
  return { span, ctx: trace.setSpan(parent, span) };
}

export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}

/**
 * The message-level per-stage instruments (defined once, in telemetry/metrics.ts), tagged with the
 * stage and `messaging.system`. They resolve against whichever meter provider is registered when a
 * message is counted, so the transport may be created before telemetry starts.
 */
export type TransportMetrics = Pick<
  StageInstruments,
  'messagesIn' | 'messagesOut' | 'deadLettered' | 'retried' | 'settleLatency' | 'dependencyState'
>;

/** `stage` is the service name; every point carries it, as the services' own stageMetrics points do. */
export function createTransportMetrics(stage?: string, options: InstrumentOptions = {}): TransportMetrics {
  const { messagesIn, messagesOut, deadLettered, retried, settleLatency, dependencyState } = boundInstruments(
    { 'messaging.system': 'servicebus', ...(stage === undefined ? {} : { stage }) },
    options,
  );
  return { messagesIn, messagesOut, deadLettered, retried, settleLatency, dependencyState };
}
