import type { Capabilities } from '../contract/capabilities.js';
import type { Driver, SubscriptionSpec } from '../contract/driver.js';
import type { Handler, HandlerOptions, SubscriberOptions } from '../contract/options.js';
import { ClosedError, ConfigError } from '../errors/index.js';
import type { Codec } from './codec.js';
import { Producer } from './producer.js';
import { requireName, resolveHandlerOptions } from './resolve-options.js';
import { SubscriptionRunner } from './runner.js';
import { Subscriber } from './subscriber.js';

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

  producer(): Producer {
    this.assertOpen();
    const producer = new Producer(this.driver, this.codec);
    this.producers.add(producer);
    return producer;
  }

  /** Declare a work queue so messages sent before any consumer attaches are kept. */
  async ensureQueue(queue: string): Promise<void> {
    this.assertOpen();
    await this.driver.ensureQueue(requireName('queue', queue));
  }

  /** Declare a durable subscription (and its dead-letter queue) so it keeps messages before its subscribers attach. */
  async ensureSubscription(topic: string, subscription: string, options: HandlerOptions = {}): Promise<void> {
    this.assertOpen();
    await this.driver.ensureSubscription(this.specFor(topic, subscription, { ...options, durable: true }));
  }

  /** Consume a work queue: instances on one queue compete for its messages. */
  async consumer<TBody = unknown>(queue: string, handler: Handler<TBody>, options: HandlerOptions = {}): Promise<Subscriber> {
    if (options !== null && typeof options === 'object' && 'durable' in options) {
      throw new ConfigError('options.durable', 'a queue is always durable; use subscriber() for ephemeral subscriptions');
    }
    return this.attach(queue, queue, handler as Handler, options);
  }

  /** Subscribe to a topic under a named subscription: every subscription receives every message. */
  async subscriber<TBody = unknown>(topic: string, subscription: string, handler: Handler<TBody>, options: SubscriberOptions = {}): Promise<Subscriber> {
    return this.attach(topic, subscription, handler as Handler, options);
  }

  /** A real round-trip to the broker; its version where it tells one. */
  async ping(): Promise<{ version?: string }> {
    this.assertOpen();
    return this.driver.ping();
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

  private async attach(topic: string, subscription: string, handler: Handler, options: SubscriberOptions): Promise<Subscriber> {
    this.assertOpen();
    if (typeof handler !== 'function') throw new ConfigError('handler', 'expected a function (message, context) => Promise<void>');
    const resolved = resolveHandlerOptions(subscription, options);
    const spec = this.specFor(topic, subscription, options);
    if (spec.durable) await this.driver.ensureSubscription(spec);
    else if (spec.deadLetterQueue !== undefined) await this.driver.ensureQueue(spec.deadLetterQueue);
    const runner = new SubscriptionRunner(this.driver, spec, resolved, this.codec, handler);
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
