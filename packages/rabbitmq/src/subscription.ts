import { PushBuffer, type Delivery, type DriverSubscription, type SubscriptionSpec } from '@brokerkit/core/driver';
import type { Channel, ConsumeMessage } from 'amqplib';
import { ChannelAcks } from './acks.js';
import type { RabbitConnection } from './connection.js';
import { fromAmqp, toAmqp, type Decoded } from './message.js';
import type { Publisher } from './publisher.js';
import { ExpiringQueues, retryBucketMs, retryQueueArguments, retryQueueName } from './topology.js';

/** What a delivery settles through: its subscription. */
export interface Settler {
  nack(delivery: RabbitDelivery, delayMs: number): Promise<void>;
  /** The delivery was acked or given back (bookkeeping of open deliveries). */
  settled(delivery: RabbitDelivery): void;
}

/**
 * A delayed retry on a durable queue: a confirmed copy to the retry queue of this delay's
 * bucket, which dead-letters it back to `queue` after its TTL (an expiring queue, declared
 * again while used: `ExpiringQueues`).
 */
export class RetryPublisher {
  private readonly queues: ExpiringQueues;

  constructor(
    connection: RabbitConnection,
    private readonly publisher: Publisher,
  ) {
    this.queues = new ExpiringQueues(() => connection.model);
  }

  async retryLater(queue: string, decoded: Decoded, delayMs: number): Promise<void> {
    const bucketMs = retryBucketMs(delayMs);
    const name = retryQueueName(queue, bucketMs);
    await this.queues.ensure(name, `retry queue ${name}`, (channel) => channel.assertQueue(name, retryQueueArguments(queue, bucketMs)));
    const copy = toAmqp('', decoded.message, { retries: decoded.retries + 1, publishedAt: decoded.publishedAt });
    await this.publisher.publish([{ ...copy, routingKey: name }]);
  }
}

/**
 * A consumer on one channel with prefetch = the instance's concurrency. Deliveries are
 * buffered until the portable layer's receive loop takes them. After a reconnect it consumes
 * again on a new channel; settling a delivery of a dead channel does nothing (the broker has
 * already requeued it), so nothing is acked on the wrong channel.
 */
export class RabbitSubscription implements DriverSubscription, Settler {
  private channel: Channel | undefined;
  /** The live channel's acks. */
  private acks: ChannelAcks | undefined;
  private queue: string;
  private readonly buffer = new PushBuffer<RabbitDelivery>();
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stopListening: () => void;
  private readonly retries: RetryPublisher;

  constructor(
    private readonly connection: RabbitConnection,
    publisher: Publisher,
    private readonly spec: SubscriptionSpec,
  ) {
    this.queue = spec.subscription;
    this.retries = new RetryPublisher(connection, publisher);
    this.stopListening = connection.onReconnect(() => this.attach());
  }

  async attach(): Promise<void> {
    if (this.closed) return;
    const channel = await this.connection.model.createChannel();
    channel.on('error', () => undefined);
    await channel.prefetch(this.spec.maxInFlight);
    if (!this.spec.durable) {
      // Server-named, exclusive, auto-delete: exists only while this connection does.
      await channel.assertExchange(this.spec.topic, 'topic', { durable: true });
      const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
      await channel.bindQueue(queue, this.spec.topic, '#');
      this.queue = queue;
    }
    this.buffer.clear();
    this.channel = channel;
    const acks = new ChannelAcks(channel, () => this.isLive(channel));
    this.acks = acks;
    await channel.consume(this.queue, (message) => {
      if (!message) return; // consumer cancelled by the broker (queue deleted)
      acks.delivered(message.fields.deliveryTag);
      this.buffer.push(this.toDelivery(channel, acks, message));
    });
  }

  receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    return this.buffer.take(max, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    for (const timer of this.timers) clearTimeout(timer);
    this.buffer.close();
    // Acks asked for this turn go out before the channel closes.
    this.acks?.flush();
    await this.channel?.close().catch(() => undefined);
    this.channel = undefined;
  }

  private toDelivery(channel: Channel, acks: ChannelAcks, raw: ConsumeMessage): RabbitDelivery {
    return new RabbitDelivery(this, channel, acks, raw, fromAmqp(raw));
  }

  /** Settle only on the channel that delivered it, while it is the live one (a dead channel's deliveries are requeued by the broker). */
  isLive(channel: Channel): boolean {
    return this.channel === channel;
  }

  /** Give a delivery back: at once (requeue), held here (ephemeral queues), or via a retry queue (durable). */
  async nack(delivery: RabbitDelivery, delayMs: number): Promise<void> {
    const { channel, acks, raw } = delivery;
    if (!this.isLive(channel)) return;
    if (delayMs <= 0) {
      channel.nack(raw, false, true);
      acks.released(raw.fields.deliveryTag);
    } else if (!this.spec.durable) {
      this.redeliverLocally(channel, acks, raw, delayMs);
    } else {
      await this.retries.retryLater(this.queue, delivery.decoded, delayMs);
      await acks.ack(raw.fields.deliveryTag);
    }
  }

  settled(): void {
    // Nothing to count: a plain queue is never handed over.
  }

  /** Ephemeral queues die with the connection: hold the message and hand it out again when due. */
  private redeliverLocally(channel: Channel, acks: ChannelAcks, raw: ConsumeMessage, delayMs: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.channel !== channel) return;
      const again = this.toDelivery(channel, acks, raw);
      again.attempt += 1 + this.localRetries(raw);
      this.buffer.push(again);
    }, delayMs);
    this.timers.add(timer);
  }

  private localRetries(raw: ConsumeMessage): number {
    const state = raw as ConsumeMessage & { bkLocalRetries?: number };
    state.bkLocalRetries = (state.bkLocalRetries ?? 0) + 1;
    return state.bkLocalRetries - 1;
  }
}

/** One AMQP delivery: a class, not closures per message. */
export class RabbitDelivery implements Delivery {
  attempt: number;

  constructor(
    private readonly subscription: Settler,
    readonly channel: Channel,
    readonly acks: ChannelAcks,
    readonly raw: ConsumeMessage,
    readonly decoded: Decoded,
  ) {
    this.attempt = decoded.attempt;
  }

  get message(): Decoded['message'] {
    return this.decoded.message;
  }

  get publishedAt(): Date {
    return this.decoded.publishedAt;
  }

  get native(): ConsumeMessage {
    return this.raw;
  }

  /** Written with the other acks of this turn; the broker does not answer acks (no confirm for them). */
  ack(): Promise<void> {
    this.subscription.settled(this);
    return this.acks.ack(this.raw.fields.deliveryTag);
  }

  async nack(delayMs: number): Promise<void> {
    try {
      await this.subscription.nack(this, delayMs);
    } finally {
      this.subscription.settled(this);
    }
  }
}
