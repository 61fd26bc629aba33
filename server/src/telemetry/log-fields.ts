import { context, trace } from '@opentelemetry/api';

/** `trace_id` and `span_id` of the active span, for every log line written inside it. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  // A span that is not sampled (or a no-op span) has nothing to look up in a trace backend.
  if ((traceFlags & 1) === 0) return {};
  return { trace_id: traceId, span_id: spanId };
}
