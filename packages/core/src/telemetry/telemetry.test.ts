import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { INVALID_TRACEID, context, metrics, propagation, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { EncodedMessage } from '../contract/driver.js';
import { jsonCodec } from '../message/codec.js';
import { recordingDriver } from '../testing/recording-driver.js';
import { Producer } from '../send/producer.js';
import { ConsumeTelemetry, observeBacklog, type AttemptTrace } from './telemetry.js';

/** Sum of a counter's points (or a histogram's count) whose attributes include `where`. */
async function read(reader: PeriodicExportingMetricReader, name: string, where: Record<string, string> = {}): Promise<number> {
  const { resourceMetrics } = await reader.collect();
  let total = 0;
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (!Object.entries(where).every(([k, v]) => point.attributes[k] === v)) continue;
        total += typeof point.value === 'number' ? point.value : (point.value as { count: number }).count;
      }
    }
  }
  return total;
}

describe('tracing (nothing registered, then a propagator alone, then an SDK, on one producer)', () => {
  it('adds trace headers only once something registered would see them', async () => {
    const { driver, sent } = recordingDriver();
    const producer = new Producer(driver, jsonCodec);
    const traceHeaders = (message: EncodedMessage | undefined): string[] => Object.keys(message?.headers ?? {}).filter((name) => name === 'traceparent' || name === 'baggage');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      // Nothing registered: the send skips tracing, and the message carries no trace header.
      await producer.send('orders', { body: 1 });
      assert.deepEqual(traceHeaders(sent.at(-1)), []);

      // A baggage propagator alone (no tracer): the caller's baggage still travels.
      propagation.setGlobalPropagator(new W3CBaggagePropagator());
      const withBaggage = propagation.setBaggage(context.active(), propagation.createBaggage({ tenant: { value: 'acme' } }));
      await context.with(withBaggage, () => producer.send('orders', { body: 2 }));
      assert.equal(sent.at(-1)?.headers.baggage, 'tenant=acme');
      assert.deepEqual(traceHeaders(sent.at(-1)), ['baggage'], 'no traceparent without a tracer');
      propagation.disable();

      // An SDK registered after the producer was made: the next send is traced.
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      await producer.send('orders', { body: 3 });
      const span = exporter.getFinishedSpans().find((finished) => finished.name === 'send orders');
      assert.ok(span, 'a send span was recorded');
      assert.equal(sent.at(-1)?.headers.traceparent?.split('-')[1], span.spanContext().traceId);
    } finally {
      trace.disable();
      propagation.disable();
      context.disable();
    }
  });
});

describe('process spans (nothing registered, then an SDK, on one subscription)', () => {
  it('runs handlers in the empty context until an SDK is registered, then under the message\'s trace', async () => {
    const consume = new ConsumeTelemetry('kafka', 'orders', 'billing');
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const message: EncodedMessage = { id: 'm1', key: undefined, headers: { traceparent }, body: new Uint8Array(3) };
    const into: AttemptTrace = { span: undefined, failed: false, thrown: undefined, startedAt: 0 };
    const runUnder = (): { active: string | undefined } => {
      const seen: { active: string | undefined } = { active: 'unset' };
      consume.begin(message, 1, () => {
        seen.active = trace.getSpan(context.active())?.spanContext().traceId;
      }, into);
      return seen;
    };
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    try {
      // Nothing registered: the header cannot be read, the span records nothing, and settling it is harmless.
      assert.equal(runUnder().active, undefined);
      assert.equal(into.span?.isRecording(), false);
      consume.settled(into.span as Span, 'retry', new Error('boom'));

      // Under a caller's context the full path runs, as before: the handler gets the message's
      // context (here none, so the inert span), not the caller's span.
      const outer = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
      assert.equal(context.with(trace.setSpan(context.active(), outer), runUnder).active, INVALID_TRACEID);

      // An SDK registered after the subscription began: the next attempt is a recorded child of the message's trace.
      const exporter = new InMemorySpanExporter();
      trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      assert.equal(runUnder().active, '0af7651916cd43dd8448eb211c80319c');
      consume.settled(into.span as Span, 'ack');
      const span = exporter.getFinishedSpans().find((finished) => finished.name === 'process billing');
      assert.ok(span, 'a process span was recorded');
      assert.equal(span.parentSpanContext?.spanId ?? (span as unknown as { parentSpanId?: string }).parentSpanId, 'b7ad6b7169203331');
      assert.equal(span.attributes['messaging.message.id'], 'm1');
    } finally {
      trace.disable();
      propagation.disable();
      context.disable();
    }
  });
});

describe('batch spans (a batch handler)', () => {
  it('one "process" span per batch in a new trace, linked to each message\'s context; a "settle" span per message under its own', async () => {
    const consume = new ConsumeTelemetry('rabbitmq', 'orders', 'billing', true);
    const traceIds = ['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736'];
    const messages: EncodedMessage[] = traceIds.map((traceId, i) => ({ id: `m${i}`, key: undefined, headers: { traceparent: `00-${traceId}-b7ad6b716920333${i}-01` }, body: new Uint8Array(1) }));
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    try {
      const into: AttemptTrace = { span: undefined, failed: false, thrown: undefined, startedAt: 0 };
      consume.begin(messages[0] as EncodedMessage, 1, () => undefined, into);
      consume.settled(into.span as Span, 'ack');
      let activeInBatch: string | undefined;
      await consume.batch(messages, () => {
        activeInBatch = trace.getSpan(context.active())?.spanContext().traceId;
      });
      await assert.rejects(consume.batch(messages.slice(1), () => Promise.reject(new Error('bulk insert failed'))), /bulk insert failed/);
      const finished = exporter.getFinishedSpans();
      const settle = finished.find((span) => span.name === 'settle billing');
      assert.equal(settle?.spanContext().traceId, traceIds[0], 'the settle span stays in the message\'s trace');
      assert.equal(settle?.attributes['messaging.operation.type'], 'settle');
      const batches = finished.filter((span) => span.name === 'process billing');
      assert.equal(batches.length, 2);
      const [first, second] = batches;
      assert.equal(first?.attributes['messaging.batch.message_count'], 2);
      assert.deepEqual(first?.links.map((link) => link.context.traceId), traceIds);
      assert.ok(!traceIds.includes(first?.spanContext().traceId as string), 'a batch span starts a trace of its own');
      assert.equal(activeInBatch, first?.spanContext().traceId, 'the handler runs in the batch span');
      assert.equal(second?.status.code, 2, 'a batch that threw ends its span with an error');
    } finally {
      trace.disable();
      propagation.disable();
      context.disable();
    }
  });
});

describe('metrics (an SDK registered after brokerkit was loaded)', () => {
  it('counts sends, handled, retried and dead-lettered messages and handler durations', async () => {
    const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    try {
      const { driver } = recordingDriver();
      const producer = new Producer(driver, jsonCodec);
      await producer.sendBatch('orders', [{ body: 1 }, { body: 2 }, { body: 3 }]);
      assert.equal(await read(reader, 'messaging.client.sent.messages', { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' }), 3);

      const consume = new ConsumeTelemetry('kafka', 'orders', 'billing');
      consume.received(2);
      const message = (id: string): EncodedMessage => ({ id, key: undefined, headers: {}, body: new Uint8Array(1) });
      // What the runner does around one attempt.
      const attempt = async (id: string, run: () => Promise<void> | void, into: AttemptTrace): Promise<void> => {
        try {
          await consume.begin(message(id), 1, run, into);
        } catch (thrown) {
          into.failed = true;
          into.thrown = thrown;
        }
        consume.end(into);
      };
      const ok: AttemptTrace = { span: undefined, failed: false, thrown: undefined, startedAt: 0 };
      await attempt('a', () => undefined, ok);
      assert.equal(ok.failed, false);
      consume.settled(ok.span as Span, 'ack');
      const failed: AttemptTrace = { span: undefined, failed: false, thrown: undefined, startedAt: 0 };
      await attempt('b', () => {
        throw new Error('boom');
      }, failed);
      const rejected: AttemptTrace = { span: undefined, failed: false, thrown: undefined, startedAt: 0 };
      await attempt('c', () => Promise.reject(new TypeError('later')), rejected);
      assert.equal(rejected.failed, true);
      assert.ok(rejected.thrown instanceof TypeError);
      assert.equal(failed.failed, true);
      assert.equal((failed.thrown as Error).message, 'boom');
      consume.settled(failed.span as Span, 'retry', failed.thrown);
      consume.deadLetterSend({}, 'billing.dlq', 'max-attempts').end();
      assert.equal(await read(reader, 'messaging.client.consumed.messages', { 'messaging.consumer.group.name': 'billing' }), 2);
      assert.equal(await read(reader, 'brokerkit.messages.handled'), 1);
      assert.equal(await read(reader, 'brokerkit.messages.retried'), 1);
      assert.equal(await read(reader, 'brokerkit.messages.dead_lettered', { 'brokerkit.dead_letter.reason': 'max-attempts' }), 1);
      assert.equal(await read(reader, 'messaging.process.duration'), 3);
      assert.equal(await read(reader, 'messaging.process.duration', { 'error.type': 'Error' }), 1);
      assert.equal(await read(reader, 'messaging.process.duration', { 'error.type': 'TypeError' }), 1);
    } finally {
      metrics.disable();
    }
  });
});

describe('the backlog gauge', () => {
  it('reports what each source observes at collection, until the source is withdrawn; a failing source is left out', async () => {
    const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    try {
      let messages = 7;
      const stop = observeBacklog(async () => [{ messages, attributes: { 'messaging.destination.name': 'orders', 'messaging.consumer.group.name': 'billing' } }]);
      const stopFailing = observeBacklog(async () => {
        throw new Error('broker unreachable');
      });
      assert.equal(await read(reader, 'brokerkit.subscription.backlog', { 'messaging.consumer.group.name': 'billing' }), 7);
      messages = 2;
      assert.equal(await read(reader, 'brokerkit.subscription.backlog', { 'messaging.consumer.group.name': 'billing' }), 2);
      stop();
      stopFailing();
      // No longer asked: the SDK keeps the last point of a gauge, not the source's new figure.
      messages = 9;
      assert.equal(await read(reader, 'brokerkit.subscription.backlog', { 'messaging.consumer.group.name': 'billing' }), 2);
    } finally {
      metrics.disable();
    }
  });
});
