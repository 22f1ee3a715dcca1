import type { EncodedMessage } from '@brokerkit/core/driver';
import { Timeline } from './heap.js';
import { MemorySubscription } from './state.js';

/**
 * One in-process broker: topics fan out to their subscriptions; a queue is a topic with a
 * subscription of the same name. Everything lives as long as the process.
 */
export class MemoryBroker {
  private readonly topics = new Map<string, Map<string, MemorySubscription>>();
  private sequence = 0;
  /** Delayed sends, on one timer: published when due, to the subscriptions the topic has then. */
  private readonly delayed = new Timeline<{ topic: string; message: EncodedMessage }>(
    () => true,
    ({ topic, message }) => this.publish(topic, message),
  );

  ensureSubscription(topic: string, name: string): MemorySubscription {
    const subscriptions = this.topicSubscriptions(topic);
    const existing = subscriptions.get(name);
    if (existing) return existing;
    const created = new MemorySubscription(name);
    subscriptions.set(name, created);
    return created;
  }

  removeSubscription(topic: string, name: string): void {
    const subscriptions = this.topics.get(topic);
    subscriptions?.get(name)?.dispose();
    subscriptions?.delete(name);
  }

  /** Give every subscription of the topic the message (when due, if delayed); a topic with none keeps nothing. */
  publish(topic: string, message: EncodedMessage): void {
    const publishedAtMs = Date.now();
    if (message.deliverAt !== undefined && message.deliverAt > publishedAtMs) {
      const { deliverAt: _due, ...due } = message;
      this.delayed.schedule({ topic, message: due }, performance.now() + (message.deliverAt - publishedAtMs));
      return;
    }
    const sequence = ++this.sequence;
    let first = true;
    for (const subscription of this.topicSubscriptions(topic).values()) {
      subscription.enqueue({ sequence, message: holdable(message, first), publishedAtMs, deliveries: 0 });
      first = false;
    }
  }

  /** Unacked messages of a subscription (for tests and `doctor`). */
  depth(topic: string, subscription: string): number {
    return this.topics.get(topic)?.get(subscription)?.depth ?? 0;
  }

  /** A subscription, if it was declared. */
  subscriptionOf(topic: string, subscription: string): MemorySubscription | undefined {
    return this.topics.get(topic)?.get(subscription);
  }

  releaseOwner(owner: symbol): void {
    for (const subscriptions of this.topics.values()) {
      for (const subscription of subscriptions.values()) subscription.releaseOwner(owner);
    }
  }

  private topicSubscriptions(topic: string): Map<string, MemorySubscription> {
    let subscriptions = this.topics.get(topic);
    if (!subscriptions) {
      subscriptions = new Map();
      this.topics.set(topic, subscriptions);
    }
    return subscriptions;
  }
}

/**
 * What one subscription keeps of a sent message. The first subscription takes the headers
 * object the producer built (nothing writes to it after the send); every other one gets its
 * own, so a handler that changes what it received changes no other subscription's message.
 * Bytes the application handed in are copied per subscription; a body the codec wrote (`text`
 * is set) is the codec's fresh buffer, read only by the decoder, so the subscriptions share it.
 * The text itself is not kept: a second copy of every body, never read again.
 */
function holdable(message: EncodedMessage, first: boolean): EncodedMessage {
  const body = message.text === undefined ? new Uint8Array(message.body) : message.body;
  return { id: message.id, key: message.key, headers: first ? message.headers : { ...message.headers }, body };
}

const brokers = new Map<string, MemoryBroker>();

/** The broker named by a memory:// URL's host part; `memory://` is the default one. */
export function brokerNamed(name: string): MemoryBroker {
  let broker = brokers.get(name);
  if (!broker) {
    broker = new MemoryBroker();
    brokers.set(name, broker);
  }
  return broker;
}
