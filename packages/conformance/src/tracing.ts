import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SamplingDecision, SimpleSpanProcessor, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';

/** Spans recorded in this process by an OpenTelemetry SDK the suite registered itself. */
export interface TraceCapture {
  /** Record spans while `work` runs (outside it, spans are not recorded, so other checks measure untraced work). */
  during<T>(work: () => Promise<T>): Promise<T>;
  /** Finished spans of one trace. */
  spansOf(traceId: string): ReadableSpan[];
}

let installed: TraceCapture | string | undefined;
let capturing = 0;

/** Records only inside `during()`; trace context still propagates (unsampled) outside it. */
const gatedSampler: Sampler = {
  shouldSample: () => ({ decision: capturing > 0 ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD }),
  toString: () => 'brokerkit-conformance-gated',
};

/**
 * Register an OpenTelemetry SDK (in-memory exporter, W3C trace context, async-hooks context)
 * for this process, once. Returns why not when the application registered its own first:
 * the suite cannot read another provider's spans.
 */
export function captureTraces(): TraceCapture | string {
  if (installed !== undefined) return installed;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ sampler: gatedSampler, spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const ok =
    trace.setGlobalTracerProvider(provider) &&
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()) &&
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  installed = ok
    ? {
        during: async (work) => {
          capturing += 1;
          try {
            return await work();
          } finally {
            capturing -= 1;
            if (capturing === 0 && exporter.getFinishedSpans().length > 10_000) exporter.reset();
          }
        },
        spansOf: (traceId) => exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === traceId),
      }
    : 'an OpenTelemetry SDK was already registered in this process; run the suite in a process without one';
  return installed;
}
