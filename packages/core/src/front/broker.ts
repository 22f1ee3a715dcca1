import type { Capabilities } from '../contract/capabilities.js';
import type { Driver, SubscriptionSpec } from '../contract/driver.js';
import type { Handler, HandlerOptions, SubscriberOptions } from '../contract/options.js';
import { ClosedError, ConfigError, TimeoutError, describeError } from '../errors/index.js';
import type { Codec } from '../message/codec.js';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import { Producer, resolveProducerOptions, type ProducerOptions } from '../send/producer.js';
import { defaultContentTypeOf, schemaOf, topicName, type BodyOut, type TopicDefinition, type TopicRef } from '../message/schema.js';
import { requireName } from '../config/names.js';
import { resolveHandlerOptions } from '../receive/handler-options.js';
import { SubscriptionRunner } from '../receive/runner.js';
import { Subscriber, type SubscriberHealth } from './subscriber.js';
import { withDeadline } from '../kit/timing.js';

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
  consumer<TSchema extends StandardSchemaV1>(queue: TopicDefinition<TSchema>, handler: Handler<BodyOut<TSchema>>, options?: HandlerOptions): Promise<Subscriber>;
  consumer<TBody = unknown>(queue: string, handler: Handler<TBody>, options?: HandlerOptions): Promise<Subscriber>;
  async consumer(queue: TopicRef, handler: Handler, options: HandlerOptions = {}): Promise<Subscriber> {
    if (options !== null && typeof options === 'object' && 'durable' in options) {
      throw new ConfigError('options.durable', 'a queue is always durable; use subscriber() for ephemeral subscriptions');
    }
    return this.attach(queue, topicName(queue, 'queue'), handler, options);
  }

  /** Subscribe to a topic under a named subscription: every subscription receives every message. */
  subscriber<TSchema extends StandardSchemaV1>(topic: TopicDefinition<TSchema>, subscription: string, handler: Handler<BodyOut<TSchema>>, options?: SubscriberOptions): Promise<Subscriber>;
  subscriber<TBody = unknown>(topic: string, subscription: string, handler: Handler<TBody>, options?: SubscriberOptions): Promise<Subscriber>;
  async subscriber(topic: TopicRef, subscription: string, handler: Handler, options: SubscriberOptions = {}): Promise<Subscriber> {
    return this.attach(topic, subscription, handler, options);
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
    const subscribers = [...this.subscribers].map((s) => s.health());
    const base = { backend: this.backend, url: this.url, subscribers };
    if (this.closed) return { ...base, status: 'down', latencyMs: 0, error: 'the connection was closed' };
    const started = performance.now();
    try {
      const { version } = await withDeadline(this.driver.ping(), timeoutMs, () => new TimeoutError(`pinging ${this.url}`, timeoutMs));
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
    for (const runner of this.runners) runner.crash();
    await this.driver.destroy();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async attach(topicRef: TopicRef, subscription: string, handler: Handler, options: SubscriberOptions): Promise<Subscriber> {
    this.assertOpen();
    const topic = topicName(topicRef);
    if (typeof handler !== 'function') throw new ConfigError('handler', 'expected a function (message, context) => Promise<void>');
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
    return subscriber;
  }

  private specFor(topic: string, subscription: string, options: SubscriberOptions): SubscriptionSpec {
    const resolved = resolveHandlerOptions(subscription, options);
    return {
      topic: requireName('topic', topic),
      subscription: requireName('subscription', subscription),
      durable: resolved.durable,
      ordering: resolved.ordering,
      ackTimeoutMs: resolved.ackTimeoutMs,
      maxInFlight: resolved.concurrency,
      maxAttempts: resolved.retry.maxAttempts,
      deadLetterQueue: resolved.deadLetterQueue === undefined ? undefined : requireName('options.deadLetter', resolved.deadLetterQueue),
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError(`connection to ${this.url}`);
  }
}
