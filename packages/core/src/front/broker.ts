import type { Backlog, Capabilities } from '../contract/capabilities.js';
import type { Driver, SubscriptionSpec } from '../contract/driver.js';
import type { BatchHandler, BatchHandlerOptions, BatchSubscriberOptions, Handler, HandlerOptions, SubscriberOptions } from '../contract/options.js';
import { ClosedError, ConfigError, TimeoutError, UnsupportedError, describeError } from '../errors/index.js';
import type { Codec } from '../message/codec.js';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Producer, resolveProducerOptions, type ProducerOptions } from '../send/producer.js';
import { defaultContentTypeOf, schemaOf, topicName, type BodyOut, type TopicDefinition, type TopicRef } from '../message/schema.js';
import { requireName } from '../config/names.js';
import { messageSlots, resolveHandlerOptions } from '../receive/handler-options.js';
import { SubscriptionRunner } from '../receive/runner.js';
import { Subscriber, type SubscriberHealth } from './subscriber.js';
import { DeadLetters } from './dead-letters.js';
import { withDeadline } from '../kit/timing.js';
import { messagingSystem, observeBacklog, type BacklogObservation } from '../telemetry/telemetry.js';

/** What `broker.health()` found; `status` is what a readiness probe answers with. */
export interface HealthReport {
  /** ok: the broker answered and every subscriber receives; degraded: it answered but a subscriber's receives fail; down: no answer (or closed). */
  status: 'ok' | 'degraded' | 'down';
  backend: string;
  url: string;
  /** Round trip of the ping. */
  latencyMs: number;
  version?: string;
  error?: string;
  subscribers: SubscriberHealth[];
}

/** A connection to one broker: makes producers, consumers and subscribers. Handler code never sees which broker. */
export class Broker implements AsyncDisposable {
  private closed = false;
  private readonly runners = new Set<SubscriptionRunner>();
  private readonly subscribers = new Set<Subscriber>();
  private readonly producers = new Set<Producer>();
  /** Subscribers of durable subscriptions: those with a backlog to report. */
  private readonly durable = new WeakSet<Subscriber>();
  private stopObservingBacklog: (() => void) | undefined;

  constructor(
    private readonly driver: Driver,
    private readonly codec: Codec,
    /** The URL it was opened with, password masked. */
    readonly url: string,
  ) {}

  /** `memory`, `kafka`, `rabbitmq`, `sqs`, `pubsub`, `redis`, … */
  get backend(): string {
    return this.driver.backend;
  }

  /** What this backend really guarantees. */
  get capabilities(): Capabilities {
    return this.driver.capabilities;
  }

  producer(options?: ProducerOptions): Producer {
    this.assertOpen();
    const producer = new Producer(this.driver, this.codec, resolveProducerOptions(options));
    this.producers.add(producer);
    return producer;
  }

  /** Declare a work queue so messages sent before any consumer attaches are kept. */
  async ensureQueue(queue: TopicRef): Promise<void> {
    this.assertOpen();
    await this.driver.ensureQueue(topicName(queue, 'queue'));
  }

  /**
   * Declare a durable subscription (and its dead-letter queue) so it keeps messages before its
   * subscribers attach. Without `options.ordering` it does not fix one: subscribers of either may attach.
   */
  async ensureSubscription(topic: TopicRef, subscription: string, options: HandlerOptions = {}): Promise<void> {
    this.assertOpen();
    // Ordering is the consumers' choice: declared without one, any may attach later.
    const spec = this.specFor(topicName(topic), subscription, { ...options, durable: true });
    await this.driver.ensureSubscription({ ...spec, ordering: options.ordering ?? 'undecided' });
  }

  /**
   * Consume a work queue: instances on one queue compete for its messages. A queue defined
   * with a schema types the handler's body and dead-letters bodies that fail validation.
   */
  consumer<TSchema extends StandardSchemaV1>(queue: TopicDefinition<TSchema>, handler: BatchHandler<BodyOut<TSchema>>, options: BatchHandlerOptions): Promise<Subscriber>;
  consumer<TBody = unknown>(queue: string, handler: BatchHandler<TBody>, options: BatchHandlerOptions): Promise<Subscriber>;
  consumer<TSchema extends StandardSchemaV1>(queue: TopicDefinition<TSchema>, handler: Handler<BodyOut<TSchema>>, options?: HandlerOptions): Promise<Subscriber>;
  consumer<TBody = unknown>(queue: string, handler: Handler<TBody>, options?: HandlerOptions): Promise<Subscriber>;
  async consumer(queue: TopicRef, handler: Handler | BatchHandler, options: HandlerOptions = {}): Promise<Subscriber> {
    if (options !== null && typeof options === 'object' && 'durable' in options) {
      throw new ConfigError('options.durable', 'a queue is always durable; use subscriber() for ephemeral subscriptions');
    }
    return this.attach(queue, topicName(queue, 'queue'), handler, options);
  }

  /** Subscribe to a topic under a named subscription: every subscription receives every message. */
  subscriber<TSchema extends StandardSchemaV1>(topic: TopicDefinition<TSchema>, subscription: string, handler: BatchHandler<BodyOut<TSchema>>, options: BatchSubscriberOptions): Promise<Subscriber>;
  subscriber<TBody = unknown>(topic: string, subscription: string, handler: BatchHandler<TBody>, options: BatchSubscriberOptions): Promise<Subscriber>;
  subscriber<TSchema extends StandardSchemaV1>(topic: TopicDefinition<TSchema>, subscription: string, handler: Handler<BodyOut<TSchema>>, options?: SubscriberOptions): Promise<Subscriber>;
  subscriber<TBody = unknown>(topic: string, subscription: string, handler: Handler<TBody>, options?: SubscriberOptions): Promise<Subscriber>;
  async subscriber(topic: TopicRef, subscription: string, handler: Handler | BatchHandler, options: SubscriberOptions = {}): Promise<Subscriber> {
    return this.attach(topic, subscription, handler, options);
  }

  /**
   * A dead-letter queue, to `peek()` into, `replay()` and `purge()`: named by the subscription
   * (or queue) whose dead letters it holds — its default dead-letter queue, `<name>.dlq` — or by
   * its own name: one ending in `.dlq`, or any as `{ queue: name }` (set with the `deadLetter` option).
   */
  deadLetters(of: string | { queue: string }): DeadLetters {
    this.assertOpen();
    const queue =
      typeof of === 'object' && of !== null ? requireName('queue', of.queue) : requireName('subscription', of).endsWith('.dlq') ? of : `${of}.dlq`;
    return new DeadLetters(this.driver, this.codec, queue, () => this.assertOpen());
  }

  /**
   * How many messages a subscription (or, with one argument, a queue) has not settled, asked of
   * the broker: what a consumer is behind by. `counts` says what the broker's figure includes.
   * An `UnsupportedError` where the backend cannot tell (`capabilities.backlog` is 'none'), a
   * `TimeoutError` after `timeoutMs` (default 10 s).
   */
  async backlog(topic: TopicRef, subscription?: string, options: { timeoutMs?: number } = {}): Promise<Backlog> {
    this.assertOpen();
    const name = topicName(topic, subscription === undefined ? 'queue' : 'topic');
    const of = subscription === undefined ? `queue ${name}` : `subscription ${subscription} of ${name}`;
    if (!this.canTellBacklog() || !this.driver.backlog) {
      throw new UnsupportedError(`${this.backend} cannot tell the backlog of ${of}${this.backlogNote()}`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    return withDeadline(this.driver.backlog(name, subscription ?? name), timeoutMs, () => new TimeoutError(`asking the backlog of ${of}`, timeoutMs));
  }

  private canTellBacklog(): boolean {
    return this.driver.capabilities.backlog !== 'none' && this.driver.backlog !== undefined;
  }

  /** The capability note saying why a backend has no backlog, if it gives one. */
  private backlogNote(): string {
    const note = this.driver.capabilities.notes.find((each) => /^backlog/.test(each));
    return note ? `: ${note}` : '';
  }

  /** A real round-trip to the broker; its version where it tells one. */
  async ping(): Promise<{ version?: string }> {
    this.assertOpen();
    return this.driver.ping();
  }

  /**
   * For readiness probes: a real round trip to the broker within `timeoutMs` (default 2 s)
   * and each subscriber's receive state. Never throws: a failure is `status: 'down'` with the error.
   */
  async health(options: { timeoutMs?: number } = {}): Promise<HealthReport> {
    const timeoutMs = options.timeoutMs ?? 2_000;
    const all = [...this.subscribers];
    const subscribers = all.map((s) => s.health());
    const durable = subscribers.filter((_, index) => this.durable.has(all[index] as Subscriber));
    const base = { backend: this.backend, url: this.url, subscribers };
    if (this.closed) return { ...base, status: 'down', latencyMs: 0, error: 'the connection was closed' };
    const started = performance.now();
    // Each subscription's backlog, asked beside the ping within the same time.
    const backlogs = this.canTellBacklog()
      ? Promise.all(
          durable.map(async (entry) => {
            try {
              entry.backlog = await this.backlog(entry.topic, entry.subscription, { timeoutMs });
            } catch (error) {
              entry.backlogError = describeError(error);
            }
          }),
        )
      : Promise.resolve();
    try {
      const [{ version }] = await Promise.all([withDeadline(this.driver.ping(), timeoutMs, () => new TimeoutError(`pinging ${this.url}`, timeoutMs)), backlogs]);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      return { ...base, status: subscribers.every((s) => s.receiving) ? 'ok' : 'degraded', latencyMs, ...(version ? { version } : {}) };
    } catch (error) {
      return { ...base, status: 'down', latencyMs: Math.round(performance.now() - started), error: describeError(error) };
    }
  }

  /** The broker client (kafkajs Kafka, amqplib connection, …) for what the portable API does not cover. */
  native<T = unknown>(): T {
    return this.driver.native() as T;
  }

  /** Close subscribers gracefully, then producers, then the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopObservingBacklog?.();
    await Promise.allSettled([...this.subscribers].map((s) => s.close()));
    await Promise.allSettled([...this.producers].map((p) => p.close()));
    await this.driver.close();
  }

  /**
   * Drop the connection at once without settling in-flight messages: what a crash looks like
   * to the broker. For fault tests; applications use close().
   */
  async destroy(): Promise<void> {
    this.closed = true;
    this.stopObservingBacklog?.();
    for (const runner of this.runners) runner.crash();
    await this.driver.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async attach(topicRef: TopicRef, subscription: string, handler: Handler | BatchHandler, options: SubscriberOptions): Promise<Subscriber> {
    this.assertOpen();
    const topic = topicName(topicRef);
    if (typeof handler !== 'function') {
      throw new ConfigError('handler', options.batch ? 'expected a function (messages, control) => Promise<void>' : 'expected a function (message, context) => Promise<void>');
    }
    const resolved = resolveHandlerOptions(subscription, options);
    const spec = this.specFor(topic, subscription, options);
    if (spec.durable) await this.driver.ensureSubscription(spec);
    else if (spec.deadLetterQueue !== undefined) await this.driver.ensureQueue(spec.deadLetterQueue);
    const runner = new SubscriptionRunner(this.driver, spec, resolved, this.codec, handler, schemaOf(topicRef), defaultContentTypeOf(topicRef, resolved.defaultContentType));
    await runner.start();
    this.runners.add(runner);
    const subscriber = new Subscriber(topic, subscription, runner, () => {
      this.runners.delete(runner);
      this.subscribers.delete(subscriber);
    });
    this.subscribers.add(subscriber);
    if (spec.durable) {
      this.durable.add(subscriber);
      if (this.canTellBacklog()) this.stopObservingBacklog ??= observeBacklog(() => this.backlogObservations());
    }
    return subscriber;
  }

  /** The backlog gauge's figures: each durable subscription of this connection, once. */
  private async backlogObservations(): Promise<BacklogObservation[]> {
    if (this.closed) return [];
    const subscriptions = new Map<string, { topic: string; subscription: string }>();
    for (const subscriber of this.subscribers) {
      if (this.durable.has(subscriber)) subscriptions.set(`${subscriber.topic}\u0000${subscriber.subscription}`, subscriber);
    }
    const system = messagingSystem(this.backend);
    const observed = await Promise.all(
      [...subscriptions.values()].map(async ({ topic, subscription }) => {
        const { messages } = await this.backlog(topic, subscription, { timeoutMs: 5_000 }).catch(() => ({ messages: -1 }));
        return { messages, attributes: { 'messaging.system': system, 'messaging.destination.name': topic, 'messaging.consumer.group.name': subscription } };
      }),
    );
    return observed.filter(({ messages }) => messages >= 0);
  }

  private specFor(topic: string, subscription: string, options: SubscriberOptions): SubscriptionSpec {
    const resolved = resolveHandlerOptions(subscription, options);
    return {
      topic: requireName('topic', topic),
      subscription: requireName('subscription', subscription),
      durable: resolved.durable,
      ordering: resolved.ordering,
      ackTimeoutMs: resolved.ackTimeoutMs,
      maxInFlight: messageSlots(resolved),
      maxAttempts: resolved.retry.maxAttempts,
      deadLetterQueue: resolved.deadLetterQueue === undefined ? undefined : requireName('options.deadLetter', resolved.deadLetterQueue),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`connection to ${this.url}`);
  }
}
