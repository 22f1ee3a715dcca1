import type { EncodedMessage } from '@brokerkit/core/driver';
import { MemorySubscription } from './state.js';

/**
 * One in-process broker: topics fan out to their subscriptions; a queue is a topic with a
 * subscription of the same name. Everything lives as long as the process.
 */
export class MemoryBroker {
  private readonly topics = new Map<string, Map<string, MemorySubscription>>();
  private sequence = 0;

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

  /** Copy the message into every subscription of the topic; a topic with none keeps nothing. */
  publish(topic: string, message: EncodedMessage): void {
    const publishedAt = new Date();
    const sequence = ++this.sequence;
    for (const subscription of this.topicSubscriptions(topic).values()) {
      subscription.enqueue({ sequence, message: copy(message), publishedAt, deliveries: 0 });
    }
  }

  /** Unacked messages of a subscription (for tests and `doctor`). */
  depth(topic: string, subscription: string): number {
    return this.topics.get(topic)?.get(subscription)?.depth ?? 0;
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
 * Each subscription gets its own headers object and, for bytes the application handed in, its
 * own copy of them: a handler that changes what it received changes nobody else's message. A
 * body the codec wrote (`text` is set) is the codec's fresh buffer, read only by the decoder,
 * so the subscriptions share it — no copy per message and subscription.
 */
function copy(message: EncodedMessage): EncodedMessage {
  const body = message.text === undefined ? new Uint8Array(message.body) : message.body;
  return { id: message.id, key: message.key, headers: { ...message.headers }, body };
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
