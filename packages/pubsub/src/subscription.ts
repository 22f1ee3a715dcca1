import { Duration, type Message, type Subscription, type SubscriberOptions } from '@google-cloud/pubsub';
import { ConnectionError, describeError } from '@brokerkit/core';
import { PushBuffer, type Delivery, type DriverSubscription } from '@brokerkit/core/driver';
import { fromAttributes } from './attributes.js';

/** Without a dead-letter policy the server sends no delivery count: this process counts (bounded memory). */
const COUNTED_IDS = 10_000;

/**
 * Streaming pull through @google-cloud/pubsub: flow control = concurrency, the library keeps
 * leases (modAck) while handlers run, acks are batched and awaited (`ackWithResponse`).
 * Messages it pushes are buffered here and pulled by the portable layer.
 */
export class PubSubSubscription implements DriverSubscription {
  private readonly buffer = new PushBuffer<Message>();
  private closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly seen = new Map<string, number>();
  private readonly options: SubscriberOptions;

  constructor(
    private readonly subscription: Subscription,
    private readonly name: string,
    ackDeadlineSeconds: number,
    maxInFlight: number,
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    const deadline = Duration.from({ seconds: ackDeadlineSeconds });
    this.options = {
      flowControl: { maxMessages: maxInFlight, allowExcessMessages: false },
      minAckDeadline: deadline,
      maxAckDeadline: deadline,
      batching: { maxMessages: 1_000, maxMilliseconds: 5 },
    };
    subscription.setOptions(this.options);
    subscription.on('message', (message: Message) => this.buffer.push(message));
    subscription.on('error', (error: Error) => {
      this.buffer.fail(new ConnectionError(`Pub/Sub streaming pull of ${name} failed: ${describeError(error)}`, { cause: error }));
    });
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    return (await this.buffer.take(max, signal)).map((message) => this.toDelivery(message));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    // Fetched but never handed to a handler: give them back at once.
    for (const message of this.buffer.close()) message.nack();
    this.subscription.removeAllListeners('message');
    await this.subscription.close().catch(() => undefined);
    await this.onClose();
  }

  /**
   * Stop at once, settling nothing: the stream closes, leases stop being extended, and the
   * server redelivers after the ack deadline — what a crashed process looks like.
   */
  async abandon(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.buffer.close();
    this.subscription.removeAllListeners('message');
    this.subscription.setOptions({ ...this.options, closeOptions: { timeout: Duration.from({ seconds: 0 }) } });
    await this.subscription.close().catch(() => undefined);
  }

  private attempt(message: Message): number {
    if (message.deliveryAttempt > 0) return message.deliveryAttempt;
    const count = (this.seen.get(message.id) ?? 0) + 1;
    this.seen.delete(message.id);
    this.seen.set(message.id, count);
    if (this.seen.size > COUNTED_IDS) this.seen.delete(this.seen.keys().next().value as string);
    return count;
  }

  private toDelivery(message: Message): Delivery {
    return {
      message: fromAttributes(message.id, message.data, message.attributes, message.orderingKey),
      publishedAt: message.publishTime,
      attempt: this.attempt(message),
      native: message,
      ack: async () => {
        await message.ackWithResponse();
      },
      nack: async (delayMs: number) => {
        if (delayMs <= 0 || this.closing) {
          message.nack();
          return;
        }
        // The library keeps extending the lease of a message it holds; the retry waits here, then
        // the nack makes the server redeliver it (counting the attempt). A crash meanwhile: it
        // comes back after the ack deadline.
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          message.nack();
        }, delayMs);
        this.timers.add(timer);
      },
    };
  }
}
