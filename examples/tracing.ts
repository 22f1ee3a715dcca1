// Tracing with the OpenTelemetry Node SDK: brokerkit needs nothing but the usual set-up. A send
// inside a span carries its context in the message's headers; the consumer's "process" span
// continues that trace, and spans the handler starts are its children. Spans print to stdout.
//   node --import tsx examples/tracing.ts           (or with BROKER_URL=…)
import { trace, type Span } from '@opentelemetry/api';
import { SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { connect } from '@brokerkit/core';

/** Prints one line per ended span (ConsoleSpanExporter prints whole objects: too long here). */
const printed: ReadableSpan[] = [];
const printer: SpanExporter = {
  export(spans, done) {
    for (const span of spans) {
      printed.push(span);
      const parent = span.parentSpanContext?.spanId ?? 'none';
      console.log(`span "${span.name}" trace ${span.spanContext().traceId.slice(0, 8)} id ${span.spanContext().spanId.slice(0, 8)} parent ${parent.slice(0, 8)}`);
    }
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(printer)] });
provider.register(); // the global tracer provider and an AsyncLocalStorage context manager

const tracer = trace.getTracer('example-checkout');
const queue = `traced-orders${process.env.EXAMPLE_SUFFIX ?? ''}`;
await using broker = await connect(process.env.BROKER_URL ?? 'memory://');

let handled = false;
await broker.consumer<{ orderId: number }>(queue, async (message) => {
  // A child of "process <queue>", itself in the checkout's trace.
  await tracer.startActiveSpan('charge card', async (span: Span) => {
    span.setAttribute('order.id', message.body.orderId);
    span.end();
  });
  handled = true;
});

const checkoutTrace = await tracer.startActiveSpan('checkout', async (span: Span) => {
  await broker.producer().send(queue, { body: { orderId: 7 } });
  span.end();
  return span.spanContext().traceId;
});

const deadline = Date.now() + 30_000;
while (!(handled && printed.some((span) => span.name.startsWith('process '))) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
await provider.shutdown();
const inTrace = printed.filter((span) => span.spanContext().traceId === checkoutTrace).map((span) => span.name);
const expected = ['checkout', `send ${queue}`, `process ${queue}`, 'charge card'];
const ok = expected.every((name) => inTrace.includes(name));
console.log(ok ? `done: ${expected.join(' → ')} in one trace` : `NOT DONE: the checkout's trace holds ${inTrace.join(', ')}`);
if (!ok) process.exitCode = 1;
