import { context, propagation, trace, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';

/** The tracer every WebGuard span comes from; a no-op until tracing is started. */
export const tracer = (): Tracer => trace.getTracer('webguard');

export interface Tracing {
  readonly enabled: boolean;
  /** Sends what is buffered, then stops. */
  close(): Promise<void>;
}

/**
 * Exports spans over OTLP/HTTP when an endpoint is configured, and does nothing otherwise: the
 * OpenTelemetry API then hands out no-op spans that cost next to nothing.
 */
export function startTracing(options: {
  endpoint: string | undefined;
  serviceName: string;
  version: string;
  role: string;
  logger: Logger;
}): Tracing {
  if (!options.endpoint) return { enabled: false, close: () => Promise.resolve() };
  const url = `${options.endpoint.replace(/\/+$/, '')}/v1/traces`;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
      'webguard.role': options.role,
    }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  // Registers the async-local context manager and W3C propagation along with the provider.
  provider.register();
  options.logger.info({ url }, 'traces are exported over OTLP');
  return {
    enabled: true,
    async close() {
      try {
        await provider.shutdown();
      } catch (error) {
        options.logger.warn({ err: error }, 'could not flush the last traces');
      }
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** Ends a span with an error status and the error recorded. */
export function failSpan(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: 2, message: error instanceof Error ? error.message : String(error) });
}
