import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Spans recorded in this process by an OpenTelemetry SDK the suite registered itself. */
export interface TraceCapture {
  /** Finished spans of one trace. */
  spansOf(traceId: string): ReadableSpan[];
}

let installed: TraceCapture | string | undefined;

/**
 * Register an OpenTelemetry SDK (in-memory exporter, W3C trace context, async-hooks context)
 * for this process, once. Returns why not when the application registered its own first:
 * the suite cannot read another provider's spans.
 */
export function captureTraces(): TraceCapture | string {
  if (installed !== undefined) return installed;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const ok =
    trace.setGlobalTracerProvider(provider) &&
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()) &&
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  installed = ok
    ? {
        spansOf: (traceId) => {
          const spans = exporter.getFinishedSpans();
          // Keep memory bounded over long runs: drop what is no longer looked at.
          if (spans.length > 10_000) exporter.reset();
          return spans.filter((span) => span.spanContext().traceId === traceId);
        },
      }
    : 'an OpenTelemetry SDK was already registered in this process; run the suite in a process without one';
  return installed;
}
