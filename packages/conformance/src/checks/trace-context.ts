import { SpanKind, trace } from '@opentelemetry/api';
import { messagingSystem } from '@brokerkit/core/driver';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { waitUntil, verdict } from '../measure.js';
import { captureTraces } from '../tracing.js';
import type { Check } from '../types.js';

const tracer = trace.getTracer('@brokerkit/conformance');

interface Seen {
  traceId: string;
  parentSpanId: string | undefined;
}

/**
 * W3C trace context crosses the broker: the consumer span of each attempt, the retry, and the
 * dead-lettered copy all belong to the trace that was active when the message was sent.
 */
export const traceContext: Check = {
  id: 'trace-context',
  title: 'one trace from producer span to consumer span, through a retry and into the DLQ',
  async run(context) {
    const capture = captureTraces();
    if (typeof capture === 'string') return { status: 'fail', reason: capture, figures: {} };
    return capture.during(async () => {
      const broker = await context.open();
      const queue = context.unique('trace');
      const attempts = new Map<number, Seen>();
      let dead: Seen | undefined;
      const activeSpan = (): Seen => {
        const span = trace.getActiveSpan() as (ReturnType<typeof trace.getActiveSpan> & { parentSpanContext?: { spanId: string } }) | undefined;
        return { traceId: span?.spanContext().traceId ?? '', parentSpanId: span?.parentSpanContext?.spanId };
      };
      await broker.consumer(
        queue,
        (message) => {
          if ((message.body as { poison?: boolean }).poison) throw new Error('poison');
          attempts.set(message.attempt, activeSpan());
          if (message.attempt === 1) throw new Error('fail the first attempt');
        },
        { retry: { maxAttempts: 2, backoff: { initialMs: 100, multiplier: 1, jitter: 0 } } },
      );
      await broker.consumer(`${queue}.dlq`, () => {
        dead = activeSpan();
    });
    const producer = broker.producer();
    const sendIn = (name: string, body: object): Promise<{ traceId: string; rootSpanId: string; id: string }> =>
      tracer.startActiveSpan(name, async (root) => {
        try {
          const { id } = await producer.send(queue, { body });
          return { traceId: root.spanContext().traceId, rootSpanId: root.spanContext().spanId, id };
        } finally {
          root.end();
        }
      });
    const retried = await sendIn('conformance: retried message', { poison: false });
    const poisoned = await sendIn('conformance: poison message', { poison: true });
    await waitUntil(() => attempts.has(2) && dead !== undefined, context.deadline(20_000));

    const spans = capture.spansOf(retried.traceId);
    const producerSpan = spans.find((s) => s.kind === SpanKind.PRODUCER && s.name === `send ${queue}`);
    const consumerSpans = spans.filter((s) => s.kind === SpanKind.CONSUMER && s.name === `process ${queue}`);
    const first = consumerSpans.find((s) => s.attributes['brokerkit.message.attempt'] === 1);
    const system = messagingSystem(context.harness.backend);
    const first1 = attempts.get(1);
    const second = attempts.get(2);
    return verdict(
      {
        producerSpans: spans.filter((s) => s.kind === SpanKind.PRODUCER).length,
        consumerSpans: consumerSpans.length,
        sameTraceFirst: first1?.traceId === retried.traceId,
        sameTraceRetry: second?.traceId === retried.traceId,
        sameTraceDeadLetter: dead?.traceId === poisoned.traceId,
      },
      [
        !producerSpan && `no PRODUCER span "send ${queue}" in the sender's trace`,
        producerSpan && producerSpan.parentSpanContext?.spanId !== retried.rootSpanId && 'the producer span is not a child of the span active at send',
        !first1 && 'the first attempt never reached the handler',
        first1 && first1.traceId !== retried.traceId && `first attempt ran in trace ${first1.traceId}, not the sender's ${retried.traceId}`,
        first1 && producerSpan && first1.parentSpanId !== producerSpan.spanContext().spanId && 'the consumer span is not a child of the producer span',
        !second && 'the retry never reached the handler',
        second && second.traceId !== retried.traceId && 'the retry ran in another trace',
        !dead && 'nothing reached the dead-letter queue',
        dead && dead.traceId !== poisoned.traceId && 'the dead-lettered message arrived in another trace',
        ...attributeProblems(first, { system, queue, id: retried.id }),
      ],
    );
    });
  },
};

function attributeProblems(span: ReadableSpan | undefined, expected: { system: string; queue: string; id: string }): (string | false)[] {
  if (!span) return ['no CONSUMER span "process <queue>" for the first attempt'];
  const want: Record<string, string | number> = {
    'messaging.system': expected.system,
    'messaging.destination.name': expected.queue,
    'messaging.operation.type': 'process',
    'messaging.message.id': expected.id,
  };
  return Object.entries(want).map(([name, value]) => span.attributes[name] !== value && `consumer span ${name} = ${String(span.attributes[name])}, expected ${value}`);
}
