import type { PubSub, Subscription, Topic } from '@google-cloud/pubsub';
import { TopologyError, describeError } from '@brokerkit/core';
import { OncePerKey, type SubscriptionDeclaration } from '@brokerkit/core/driver';

/** gRPC status codes the admin calls answer with. */
const ALREADY_EXISTS = 6;
const NOT_FOUND = 5;

/** Real Pub/Sub takes ack deadlines of 10–600 s. */
export const ackDeadlineSeconds = (ackTimeoutMs: number): number => Math.min(600, Math.max(10, Math.ceil(ackTimeoutMs / 1_000)));

/** The native dead-letter policy takes 5–100 delivery attempts. */
export function nativeDeadLetterAttempts(maxAttempts: number): number | undefined {
  if (maxAttempts > 100) return undefined;
  // Below 5 the policy sits at 5 as a crash-loop net behind core's own dead-lettering at maxAttempts.
  return Math.max(5, maxAttempts);
}

const code = (error: unknown): number | undefined => (error as { code?: number }).code;

export interface SubscriptionSettings {
  ackDeadlineSeconds: number;
  ordering: boolean;
  /** Topic dead letters go to, with the policy's attempts; undefined: no native policy. */
  deadLetter?: { topic: string; maxDeliveryAttempts: number };
  /** Deleted by the server after this long without subscribers (ephemeral subscriptions). */
  expireAfterSeconds?: number;
  /**
   * A declaration only (`ensureQueue`): a subscription that exists is taken as it is. One a
   * consumer with `ordering: 'none'` created first has no message ordering, and a queue declared
   * afterwards (a DLQ, by the consumer it serves) must not fail for it.
   */
  asFound?: boolean;
}

/**
 * Topics and subscriptions, created idempotently. Mutable settings of an existing
 * subscription (ack deadline, dead-letter policy) are updated to what is asked; message
 * ordering cannot change after creation, so a subscription created without it cannot serve
 * `ordering: 'key'` — that is a TopologyError saying so. Queues are created with ordering on,
 * which serves both.
 */
export class PubSubTopology {
  private readonly topics = new OncePerKey<Topic>();

  constructor(private readonly pubsub: PubSub) {}

  topic(name: string): Promise<Topic> {
    return this.topics.get(name, () => this.createTopic(name));
  }

  async subscription(topicName: string, name: string, settings: SubscriptionSettings): Promise<Subscription> {
    const topic = await this.topic(topicName);
    const deadLetterPolicy = settings.deadLetter
      ? { deadLetterTopic: (await this.topic(settings.deadLetter.topic)).name, maxDeliveryAttempts: settings.deadLetter.maxDeliveryAttempts }
      : null;
    const wanted = {
      ackDeadlineSeconds: settings.ackDeadlineSeconds,
      enableMessageOrdering: settings.ordering,
      deadLetterPolicy,
      ...(settings.expireAfterSeconds ? { expirationPolicy: { ttl: { seconds: settings.expireAfterSeconds } } } : {}),
    };
    const subscription = this.pubsub.subscription(name);
    try {
      await topic.createSubscription(name, wanted);
      return subscription;
    } catch (error) {
      if (code(error) !== ALREADY_EXISTS) throw new TopologyError(`creating Pub/Sub subscription ${name} on ${topicName} failed: ${describeError(error)}`, { cause: error });
    }
    const [existing] = await subscription.getMetadata().catch((error: unknown) => {
      throw new TopologyError(`reading Pub/Sub subscription ${name} failed: ${describeError(error)}`, { cause: error });
    });
    if (existing.topic && existing.topic !== topic.name) {
      throw new TopologyError(`Pub/Sub subscription ${name} exists on ${existing.topic}, not on ${topic.name}`);
    }
    if (settings.asFound) return subscription;
    if (settings.ordering && !existing.enableMessageOrdering) {
      throw new TopologyError(`Pub/Sub subscription ${name} exists without message ordering, which cannot be turned on later; ordering 'key' needs a new subscription`);
    }
    const sameDeadLetter =
      (existing.deadLetterPolicy?.deadLetterTopic ?? null) === (deadLetterPolicy?.deadLetterTopic ?? null) &&
      (existing.deadLetterPolicy?.maxDeliveryAttempts ?? null) === (deadLetterPolicy?.maxDeliveryAttempts ?? null);
    if (existing.ackDeadlineSeconds !== settings.ackDeadlineSeconds || !sameDeadLetter) {
      await subscription.setMetadata({ ackDeadlineSeconds: settings.ackDeadlineSeconds, deadLetterPolicy }).catch((error: unknown) => {
        throw new TopologyError(`updating Pub/Sub subscription ${name} failed: ${describeError(error)}`, { cause: error });
      });
    }
    return subscription;
  }

  async deleteSubscription(name: string): Promise<void> {
    await this.pubsub
      .subscription(name)
      .delete()
      .catch((error: unknown) => {
        if (code(error) !== NOT_FOUND) throw error;
      });
  }

  private async createTopic(name: string): Promise<Topic> {
    const topic = this.pubsub.topic(name);
    try {
      await topic.create();
    } catch (error) {
      if (code(error) !== ALREADY_EXISTS) throw new TopologyError(`creating Pub/Sub topic ${name} failed: ${describeError(error)}`, { cause: error });
    }
    return topic;
  }
}

/**
 * A declaration that leaves the ordering to its subscribers creates the subscription with
 * message ordering on, as queues are: it cannot be turned on later, and serves both.
 */
export const topologySettings = (spec: SubscriptionDeclaration, deadLetterTopic: string | undefined): SubscriptionSettings => {
  const attempts = nativeDeadLetterAttempts(spec.maxAttempts);
  return {
    ackDeadlineSeconds: ackDeadlineSeconds(spec.ackTimeoutMs),
    ordering: spec.ordering !== 'none',
    ...(deadLetterTopic && attempts ? { deadLetter: { topic: deadLetterTopic, maxDeliveryAttempts: attempts } } : {}),
  };
};
