import {
  type Attributes,
  type Context,
  type Counter,
  context,
  type Histogram,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
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

export interface TransportMetrics {
  readonly messagesIn: Counter;
  readonly messagesOut: Counter;
  readonly deadLettered: Counter;
  readonly retried: Counter;
  /** From receipt to settlement acknowledged by the broker (handler time included). */
  readonly settleLatency: Histogram;
}

/**
 * Instruments are taken from the global meter provider when the transport is created, so the
 * service must register its metrics SDK first (the metrics API has no proxy provider).
 */
export function createTransportMetrics(): TransportMetrics {
  const meter = metrics.getMeter('logferry');
  return {
    messagesIn: meter.createCounter('logferry.messages.in', { description: 'Messages received from a subscription' }),
    messagesOut: meter.createCounter('logferry.messages.out', { description: 'Messages published to a topic' }),
    deadLettered: meter.createCounter('logferry.messages.deadlettered', { description: 'Messages dead-lettered' }),
    retried: meter.createCounter('logferry.messages.retried', { description: 'Messages rescheduled for retry' }),
    settleLatency: meter.createHistogram('logferry.settle.latency', {
      description: 'Time from receipt to settlement',
      unit: 'ms',
    }),
  };
}
