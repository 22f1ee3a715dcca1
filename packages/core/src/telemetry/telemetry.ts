import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  createNoopMeter,
  INVALID_SPAN_CONTEXT,
  INVALID_TRACEID,
  isSpanContextValid,
  metrics,
  propagation,
  ProxyTracerProvider,
  trace,
  type Attributes,
  type Context,
  type Counter,
  type Histogram,
  type Link,
  type MeterProvider,
  type ObservableGauge,
  type Span,
  type TextMapGetter,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { EncodedMessage } from '../contract/driver.js';
import type { Headers } from '../contract/message.js';

/**
 * OpenTelemetry for every backend, through `@opentelemetry/api` only: without an SDK
 * registered, spans are non-recording and propagation does nothing, so this costs a few
 * function calls. Names and attributes follow the OpenTelemetry messaging semantic
 * conventions; the W3C trace context travels in the message headers, which every driver
 * carries natively, so one trace crosses every broker (and retries, and the DLQ).
 */

const SCOPE = '@brokerkit/core';
/**
 * The tracer of the tracer provider registered now. A tracer taken once at load would stay with
 * the provider of that time: after `trace.disable()` and another registration it would still
 * feed the old one, while the check for whether tracing is on (tracingOff) reads the new one.
 */
let tracerFor: { provider: TracerProvider; tracer: Tracer } | undefined;
function tracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (tracerFor?.provider !== provider) tracerFor = { provider, tracer: provider.getTracer(SCOPE) };
  return tracerFor.tracer;
}

/** `messaging.system` per backend: the semantic conventions' names where they have one. */
const MESSAGING_SYSTEM: Record<string, string> = {
  kafka: 'kafka',
  rabbitmq: 'rabbitmq',
  sqs: 'aws_sqs',
  pubsub: 'gcp_pubsub',
  redis: 'redis',
  memory: 'brokerkit_memory',
};
export const messagingSystem = (backend: string): string => MESSAGING_SYSTEM[backend] ?? backend;

const headerSetter: TextMapSetter<Headers> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};
const headerGetter: TextMapGetter<Readonly<Headers>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The trace context a message carries (root when it carries none). */
export function contextFromHeaders(headers: Readonly<Headers>): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headerGetter);
}

/** Write the trace context of `span` (under the current context) into `headers`. */
function inject(span: Span, headers: Headers, parent: Context = context.active()): void {
  propagation.inject(trace.setSpan(parent, span), headers, headerSetter);
}

// ── metrics: instruments are made for the meter provider registered at the time, and again
// when another one is registered (the API has no proxy meter as it has a proxy tracer).
interface Instruments {
  sent: Counter;
  consumed: Counter;
  handled: Counter;
  retried: Counter;
  deadLettered: Counter;
  processDuration: Histogram;
  /** The API's no-op histogram (no meter provider registered): handler attempts are not timed. */
  durationIsNoop: boolean;
  backlog: ObservableGauge;
}

/** One observation of a subscription's backlog. */
export interface BacklogObservation {
  messages: number;
  attributes: Attributes;
}

/** What the backlog gauge asks when it is collected: every open broker's subscribers. */
const backlogSources = new Set<() => Promise<BacklogObservation[]>>();

/**
 * Report subscriptions' backlog through the `brokerkit.subscription.backlog` gauge while the
 * returned function is not called. The gauge exists for the meter provider registered when a
 * subscriber attaches (or a message goes through, after a provider is registered later).
 */
export function observeBacklog(source: () => Promise<BacklogObservation[]>): () => void {
  backlogSources.add(source);
  instruments();
  return () => backlogSources.delete(source);
}
const NOOP_HISTOGRAM = createNoopMeter().createHistogram('noop').constructor;
let instrumentsFor: { provider: MeterProvider; instruments: Instruments } | undefined;
function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instrumentsFor?.provider !== provider) {
    const meter = provider.getMeter(SCOPE);
    const processDuration = meter.createHistogram('messaging.process.duration', { unit: 's', description: 'Duration of one handler attempt' });
    instrumentsFor = {
      provider,
      instruments: {
        sent: meter.createCounter('messaging.client.sent.messages', { unit: '{message}', description: 'Messages the broker accepted (or refused: error.type)' }),
        consumed: meter.createCounter('messaging.client.consumed.messages', { unit: '{message}', description: 'Deliveries received from the broker' }),
        handled: meter.createCounter('brokerkit.messages.handled', { unit: '{message}', description: 'Messages whose handler succeeded and that were acknowledged' }),
        retried: meter.createCounter('brokerkit.messages.retried', { unit: '{message}', description: 'Failed attempts scheduled for another delivery' }),
        deadLettered: meter.createCounter('brokerkit.messages.dead_lettered', { unit: '{message}', description: 'Messages moved to a dead-letter queue (brokerkit.dead_letter.reason)' }),
        processDuration,
        durationIsNoop: processDuration.constructor === NOOP_HISTOGRAM,
        backlog: backlogGauge(meter.createObservableGauge('brokerkit.subscription.backlog', { unit: '{message}', description: 'Messages a subscription has not settled, as its broker counts them' })),
      },
    };
  }
  return instrumentsFor.instruments;
}

/** Each collection asks every source; a source that fails or is slow is left out of that collection. */
function backlogGauge(gauge: ObservableGauge): ObservableGauge {
  gauge.addCallback(async (result) => {
    const observed = await Promise.all([...backlogSources].map((source) => source().catch(() => [] as BacklogObservation[])));
    for (const { messages, attributes } of observed.flat()) result.observe(messages, attributes);
  });
  return gauge;
}

/**
 * No SDK is taking spans: a span that neither records nor carries a valid context (the API's
 * no-op tracer, with no trace active). Then per-message spans and their contexts would be
 * allocated for nothing, and are skipped. A sampled-out span of a real SDK has a valid context
 * and still propagates.
 */
const inert = (span: Span): boolean => !span.isRecording() && span.spanContext().traceId === INVALID_TRACEID;

/** The API's no-op tracer provider: what a proxy delegates to until an SDK registers one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Nothing registered could see a send's spans or trace headers: no tracer provider (so spans
 * are the API's no-op ones) and no propagator (so nothing is injected). Then a send skips
 * tracing altogether: on a single send, cold, the no-op calls cost 5–6 µs. Asked on every send,
 * so an SDK registered later is used from the next send on; a provider from another copy of the
 * API is not recognised and takes the full path.
 */
function tracingOff(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_TRACER_PROVIDER && propagation.fields().length === 0;
}

/** The span of every handler attempt while tracing is off: the API's non-recording span, shared (it holds nothing). */
const INERT_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Spans and metrics of one `sendBatch`: create them, take each message's trace headers, then `end()` with the outcome. */
export class SendTelemetry {
  /** Undefined while tracing is off. */
  private readonly sendSpan: Span | undefined;
  /** Per-message "create" spans of a batch; a single send injects its "send" span itself. */
  private readonly createSpans: Span[] = [];
  private readonly attributes: Attributes;
  /** Per message, the trace context to write (spans live); else one carrier for all (inert spans). */
  private readonly perMessage: Headers[] | undefined;
  private readonly shared: Headers | undefined;

  /** Starts the spans and builds each message's trace context headers. */
  constructor(backend: string, topic: string, count: number) {
    this.attributes = { 'messaging.system': messagingSystem(backend), 'messaging.destination.name': topic, 'messaging.operation.name': 'send' };
    if (tracingOff()) return;
    const parent = context.active();
    if (count === 1) {
      this.sendSpan = tracer().startSpan(`send ${topic}`, { kind: SpanKind.PRODUCER, attributes: { ...this.attributes, 'messaging.operation.type': 'send' } }, parent);
      if (inert(this.sendSpan)) {
        this.shared = parentCarrier(parent);
      } else {
        this.perMessage = [{}];
        inject(this.sendSpan, this.perMessage[0] as Headers, parent);
      }
      return;
    }
    // A batch: one "create" span per message (its context travels with the message), linked
    // from one "send" span for the broker call, as the conventions describe for batches.
    const links: Link[] = [];
    const createOptions = { kind: SpanKind.PRODUCER, attributes: { ...this.attributes, 'messaging.operation.type': 'create', 'messaging.operation.name': 'create' } };
    const first = tracer().startSpan(`create ${topic}`, createOptions, parent);
    if (inert(first)) {
      this.shared = parentCarrier(parent);
    } else {
      this.perMessage = [];
      for (let index = 0; index < count; index += 1) {
        const span = index === 0 ? first : tracer().startSpan(`create ${topic}`, createOptions, parent);
        const headers: Headers = {};
        inject(span, headers, parent);
        this.perMessage.push(headers);
        this.createSpans.push(span);
        if (span.isRecording()) links.push({ context: span.spanContext() });
      }
    }
    this.sendSpan = tracer().startSpan(
      `send ${topic}`,
      { kind: SpanKind.CLIENT, attributes: { ...this.attributes, 'messaging.operation.type': 'send', 'messaging.batch.message_count': count }, links },
      parent,
    );
  }

  /** Trace headers for message `index` (undefined: none to add). */
  headersFor(index: number): Headers | undefined {
    return this.perMessage ? this.perMessage[index] : this.shared;
  }

  /**
   * The receipts, or on failure the messages as encoded; `error` when the send failed. An id
   * is '' when the broker was to name the message and did not.
   */
  end(messages: readonly { id: string }[], error?: unknown): void {
    const only = messages.length === 1 && this.createSpans.length === 0 ? (messages[0] as { id: string }).id : '';
    if (only !== '') this.sendSpan?.setAttribute('messaging.message.id', only);
    this.createSpans.forEach((span, index) => {
      const message = messages[index];
      if (message !== undefined && message.id !== '') span.setAttribute('messaging.message.id', message.id);
      endSpan(span, error);
    });
    if (this.sendSpan !== undefined) endSpan(this.sendSpan, error);
    instruments().sent.add(messages.length || this.createSpans.length || 1, error ? { ...this.attributes, 'error.type': errorType(error) } : this.attributes);
  }
}

/** What a registered propagator writes for the parent context alone (baggage, say); undefined when nothing. */
function parentCarrier(parent: Context): Headers | undefined {
  const carrier: Headers = {};
  propagation.inject(parent, carrier, headerSetter);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/** The span of a handler attempt and whether (and what) its handler threw; one per message, reused across attempts. */
export interface AttemptTrace {
  span: Span | undefined;
  failed: boolean;
  thrown: unknown;
  /** When the attempt began (ms, monotonic), for `messaging.process.duration`; 0 while that histogram is the API's no-op. */
  startedAt: number;
}

/** The consumer side of one subscription: a span per handler attempt and the counters. */
export class ConsumeTelemetry {
  private readonly attributes: Attributes;
  // Built once: the per-message path allocates only what varies (id, size, attempt), and only
  // when a span is really recorded.
  private readonly spanName: string;
  private readonly spanOptions: { kind: SpanKind; attributes: Attributes };
  private readonly processMetricAttributes: Attributes;
  private readonly receiveMetricAttributes: Attributes;

  /** Where a batch handler runs, each batch's "process" span: its name and attributes. */
  private readonly batchSpanName: string;
  private readonly batchAttributes: Attributes;

  /**
   * `batched`: the handler takes batches. Each batch then gets the "process" span (`batch()`),
   * and each message's attempt a "settle" span, still the child of the context it carried, that
   * records what became of it.
   */
  constructor(backend: string, topic: string, subscription: string, batched = false) {
    this.attributes = {
      'messaging.system': messagingSystem(backend),
      'messaging.destination.name': topic,
      'messaging.destination.subscription.name': subscription,
      'messaging.consumer.group.name': subscription,
    };
    const operation = batched ? 'settle' : 'process';
    this.spanName = `${operation} ${subscription}`;
    this.spanOptions = { kind: batched ? SpanKind.CLIENT : SpanKind.CONSUMER, attributes: { ...this.attributes, 'messaging.operation.type': operation, 'messaging.operation.name': operation } };
    this.batchSpanName = `process ${subscription}`;
    this.batchAttributes = { ...this.attributes, 'messaging.operation.type': 'process', 'messaging.operation.name': 'process' };
    this.processMetricAttributes = { ...this.attributes, 'messaging.operation.name': 'process' };
    this.receiveMetricAttributes = { ...this.attributes, 'messaging.operation.name': 'receive' };
  }

  received(count: number): void {
    if (count > 0) instruments().consumed.add(count, this.receiveMetricAttributes);
  }

  /**
   * Begin one handler attempt: call `run` inside a CONSUMER span whose parent is the context
   * the message carries (so producer and consumer share a trace id). The span goes into `into`
   * (the caller ends it with `settled()`), and so does a synchronous throw. Returns what `run`
   * returned when it is a promise: the caller awaits it (a throw there is the handler's error
   * too, the caller records it in `into`), then calls `end()`. Split in two so that the caller's
   * own async frame does the waiting: an async function here cost a frame and a promise per
   * message.
   */
  begin(message: EncodedMessage, attempt: number, run: () => Promise<void> | void, into: AttemptTrace): PromiseLike<void> | undefined {
    // Tracing off and no context active: no propagator to read the message's trace context and
    // no tracer to start a span under it, so the handler runs in the empty context with the
    // shared inert span, as the full path would give it (cold, that path costs a few µs per
    // delivery). Asked per attempt, like a send's, so an SDK registered later is used at once.
    const bare = tracingOff() && context.active() === ROOT_CONTEXT;
    const parent = bare ? ROOT_CONTEXT : contextFromHeaders(message.headers);
    const span = bare ? INERT_SPAN : tracer().startSpan(this.spanName, this.spanOptions, parent);
    if (!bare && span.isRecording()) {
      span.setAttributes({ 'messaging.message.id': message.id, 'messaging.message.body.size': message.body.byteLength, 'brokerkit.message.attempt': attempt });
    }
    into.span = span;
    into.failed = false;
    into.thrown = undefined;
    into.startedAt = instruments().durationIsNoop ? 0 : performance.now();
    try {
      // An inert span, no trace in the message and none active: the handler would see the same
      // empty context either way, so the context switch (an allocation per message) is skipped.
      const result = bare || (parent === ROOT_CONTEXT && inert(span) && context.active() === ROOT_CONTEXT) ? run() : context.with(trace.setSpan(parent, span), run);
      return isPromiseLike(result) ? result : undefined;
    } catch (thrown) {
      into.failed = true;
      into.thrown = thrown;
      return undefined;
    }
  }

  /**
   * Run a batch handler's call in one CONSUMER "process" span for the batch, as the semantic
   * conventions describe: a new trace, linked to the context each message carried. Rejects
   * with what the call threw.
   */
  async batch(messages: readonly { headers: Readonly<Headers> }[], call: () => Promise<void> | void): Promise<void> {
    if (tracingOff()) {
      await call();
      return;
    }
    const links: Link[] = [];
    for (const message of messages) {
      const carried = trace.getSpanContext(contextFromHeaders(message.headers));
      if (carried !== undefined && isSpanContextValid(carried)) links.push({ context: carried });
    }
    const span = tracer().startSpan(this.batchSpanName, { kind: SpanKind.CONSUMER, attributes: { ...this.batchAttributes, 'messaging.batch.message_count': messages.length }, links }, ROOT_CONTEXT);
    try {
      await context.with(trace.setSpan(ROOT_CONTEXT, span), call);
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
    endSpan(span);
  }

  /** The attempt's handler has finished (`into.failed` says how): record its duration. */
  end(into: AttemptTrace): void {
    if (into.startedAt === 0) return;
    const attributes = into.failed ? { ...this.processMetricAttributes, 'error.type': errorType(into.thrown) } : this.processMetricAttributes;
    instruments().processDuration.record((performance.now() - into.startedAt) / 1000, attributes);
  }

  /** Close the attempt's span with what became of the message. */
  settled(span: Span, outcome: 'ack' | 'retry' | 'dead-letter' | 'discard' | 'release', error?: unknown): void {
    span.setAttribute('brokerkit.outcome', outcome);
    endSpan(span, error);
    if (outcome === 'ack') instruments().handled.add(1, this.attributes);
    else if (outcome === 'retry') instruments().retried.add(1, this.attributes);
  }

  /**
   * A "send" span for moving a message to its dead-letter queue, child of the context the
   * message carried; its context replaces the message's, so a DLQ consumer joins the same trace.
   */
  deadLetterSend(headers: Headers, deadLetterQueue: string, reason: string): Span {
    instruments().deadLettered.add(1, { ...this.attributes, 'brokerkit.dead_letter.reason': reason });
    const parent = contextFromHeaders(headers);
    const span = tracer().startSpan(
      `send ${deadLetterQueue}`,
      { kind: SpanKind.PRODUCER, attributes: { 'messaging.system': this.attributes['messaging.system'], 'messaging.destination.name': deadLetterQueue, 'messaging.operation.type': 'send', 'messaging.operation.name': 'send' } },
      parent,
    );
    inject(span, headers, parent);
    return span;
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<void> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    span.setAttribute('error.type', errorType(error));
  }
  span.end();
}

function errorType(error: unknown): string {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'error';
}
