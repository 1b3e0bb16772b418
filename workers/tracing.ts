// OpenTelemetry tracing of workflows and activities (@temporalio/interceptors-opentelemetry), off
// unless the environment asks for it, so a laptop run never tries to reach a collector:
//   OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  OTLP/HTTP to that collector
//   DUAL_IPO_TRACING=1                                                 OTLP/HTTP to the standard local collector (http://localhost:4318)
//   DUAL_IPO_TRACING=console                                           spans printed to stdout
// Workflow spans leave the sandbox through a sink and are exported by the worker process, with the
// activity spans, by the same span processor.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryPlugin } from '@temporalio/interceptors-opentelemetry';

export const TRACING_ENV = 'DUAL_IPO_TRACING';

export type TracingMode = 'off' | 'otlp' | 'console';

export function tracingMode(env: NodeJS.ProcessEnv = process.env): TracingMode {
  const flag = env[TRACING_ENV]?.trim().toLowerCase();
  if (flag === '0' || flag === 'false') return 'off';
  if (flag === 'console') return 'console';
  if (flag === '1' || flag === 'true') return 'otlp';
  if (flag) throw new Error(`${TRACING_ENV}="${env[TRACING_ENV]}": expected 1, 0 or console`);
  return env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() ? 'otlp' : 'off';
}

export interface Tracing {
  plugin: OpenTelemetryPlugin;
  /** Exports what is buffered and stops; call after the workers have stopped. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** where spans go; default from tracingMode() */
  exporter?: SpanExporter;
  serviceName?: string;
  /** what the worker runs (a code version) */
  serviceVersion?: string;
}

/** The tracing plugin for Worker.create, or undefined when tracing is off and no exporter is given. */
export function createTracing(options: TracingOptions = {}, env: NodeJS.ProcessEnv = process.env): Tracing | undefined {
  let processor: SpanProcessor;
  if (options.exporter) {
    processor = new SimpleSpanProcessor(options.exporter);
  } else {
    const mode = tracingMode(env);
    if (mode === 'off') return undefined;
    // The exporter reads the OTEL_EXPORTER_OTLP_* variables itself (endpoint, headers, timeout).
    processor = mode === 'console' ? new SimpleSpanProcessor(new ConsoleSpanExporter()) : new BatchSpanProcessor(new OTLPTraceExporter());
  }
  const resource = new Resource({
    'service.name': env.OTEL_SERVICE_NAME?.trim() || options.serviceName || 'dual-ipo-worker',
    ...(options.serviceVersion ? { 'service.version': options.serviceVersion } : {}),
  });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  // The activity interceptor reads the workflow's trace context from the task headers through the
  // global propagator and makes it the parent with context.with(): both are no-ops until set, and the
  // activity spans would each start a trace of their own. Process-wide: only the first call sets them.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const plugin = new OpenTelemetryPlugin({ resource, spanProcessor: processor, tracer: provider.getTracer('dual-ipo') });
  return { plugin, shutdown: () => provider.shutdown() };
}
