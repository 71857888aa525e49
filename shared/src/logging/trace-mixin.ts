import { isSpanContextValid, trace } from '@opentelemetry/api';

/**
 * Adds the active span's ids to a log line so logs join their trace in Application Insights.
 * Cheap when no tracer is registered: getActiveSpan() is then undefined.
 */
export function traceMixin(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const ctx = span.spanContext();
  if (!isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId, trace_flags: `0${ctx.traceFlags.toString(16)}`.slice(-2) };
}
