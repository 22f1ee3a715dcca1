import { randomBytes } from 'node:crypto';
import { PubSub, type Topic } from '@google-cloud/pubsub';
import {
  asBuffer,
  ConfigError,
  describeError,
  firstContact,
  hostAndPort,
  OpenSubscriptions,
  readUrlOptions,
  SendError,
  type Capabilities,
  type Driver,
  type DriverFactory,
  type DriverLimits,
  type DriverSubscription,
  type EncodedMessage,
  type SendReceipt,
  type SubscriptionSpec,
} from '@brokerkit/core';
import { toAttributes } from './attributes.js';
import { pubsubCapabilities } from './capabilities.js';
import { PubSubSubscription } from './subscription.js';
import { PubSubTopology, ackDeadlineSeconds, topologySettings } from './topology.js';

const urlOptions = {
  emulator: { type: 'string', pattern: /^[\w.-]+:\d+$/, doc: 'host:port of a Pub/Sub emulator (omit for Google Cloud with default credentials)' },
  maxMessageBytes: { type: 'int', min: 1, max: 10_000_000, default: 4_000_000, doc: 'largest message in bytes (Pub/Sub takes 10 MB; gRPC servers 4 MB by default)' },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the service' },
} as const;

const EPHEMERAL_EXPIRY_SECONDS = 24 * 3600;

class PubSubDriver implements Driver {
  readonly backend = 'pubsub';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  // A nacked message of an ordering key comes back ahead of the rest of its key only if held:
  // with ordering 'key', core retries in place.
  readonly traits = { retryKeepsKeyOrder: false, idsFromBroker: false };
  private readonly topology: PubSubTopology;
  /** Per topic: a publisher with message ordering (keyed messages) and one without (the rest batch freely). */
  private readonly publishers = new Map<string, { ordered: Topic; unordered: Topic }>();
  private readonly subscriptions = new OpenSubscriptions<PubSubSubscription>();

  constructor(
    private readonly pubsub: PubSub,
    maxMessageBytes: number,
  ) {
    this.capabilities = pubsubCapabilities(maxMessageBytes);
    this.limits = { maxMessageBytes, maxBatchMessages: 1_000, maxBatchBytes: maxMessageBytes };
    this.topology = new PubSubTopology(pubsub);
  }

  async ensureQueue(name: string): Promise<void> {
    await this.topology.subscription(name, name, { ackDeadlineSeconds: 10, ordering: true });
  }

  async ensureSubscription(spec: SubscriptionSpec): Promise<void> {
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
    await this.topology.subscription(spec.topic, spec.subscription, topologySettings(spec, spec.deadLetterQueue));
  }

  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    const publishers = await this.publisher(topic);
    const prepared = messages.map((message) => ({ message, attributes: toAttributes(message) }));
    const results = await Promise.allSettled(
      prepared.map(({ message, attributes }) => {
        const data = asBuffer(message.body);
        return message.key ? publishers.ordered.publishMessage({ data, attributes, orderingKey: message.key }) : publishers.unordered.publishMessage({ data, attributes });
      }),
    );
    const failed = results.flatMap((result, index) => (result.status === 'rejected' ? [{ message: messages[index] as EncodedMessage, error: result.reason as unknown }] : []));
    if (failed.length > 0) {
      // A failed publish pauses its ordering key in the library until resumed.
      for (const { message } of failed) if (message.key) publishers.ordered.resumePublishing(message.key);
      const detail = failed.map(({ message, error }) => `${message.id} (${describeError(error)})`).join(', ');
      throw new SendError(`Pub/Sub refused ${failed.length} of ${messages.length} messages to ${topic}: ${detail}`, { cause: failed[0]?.error, retriable: true });
    }
    // The server's message id, as the subscriber's native message shows it. Not the message id:
    // a copy Pub/Sub's dead-letter policy forwards gets a new one, and `bk-id` keeps ours.
    return messages.map((message, index) => ({ id: message.id, brokerId: (results[index] as PromiseFulfilledResult<string>).value }));
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    let subscription: PubSubSubscription;
    const deadline = ackDeadlineSeconds(spec.ackTimeoutMs);
    if (spec.durable) {
      await this.ensureSubscription(spec);
      subscription = new PubSubSubscription(this.pubsub.subscription(spec.subscription), spec.subscription, deadline, spec.maxInFlight);
    } else {
      const name = `${spec.subscription}-live-${randomBytes(4).toString('hex')}`;
      const native = await this.topology.subscription(spec.topic, name, { ackDeadlineSeconds: deadline, ordering: spec.ordering === 'key', expireAfterSeconds: EPHEMERAL_EXPIRY_SECONDS });
      subscription = new PubSubSubscription(native, name, deadline, spec.maxInFlight, () => this.topology.deleteSubscription(name).catch(() => undefined));
    }
    return this.subscriptions.track(subscription);
  }

  async ping(): Promise<{ version?: string }> {
    await this.pubsub.getTopics({ pageSize: 1 });
    return {};
  }

  async close(): Promise<void> {
    await this.subscriptions.settleAll();
    await Promise.allSettled([...this.publishers.values()].flatMap(({ ordered, unordered }) => [ordered.flush(), unordered.flush()]));
    await this.pubsub.close();
  }

  async destroy(): Promise<void> {
    // Drop everything without acking or nacking: the server redelivers after the ack deadline.
    await this.subscriptions.settleAll((s) => s.abandon());
    await this.pubsub.close().catch(() => undefined);
  }

  native(): PubSub {
    return this.pubsub;
  }

  private async publisher(name: string): Promise<{ ordered: Topic; unordered: Topic }> {
    let publishers = this.publishers.get(name);
    if (!publishers) {
      await this.topology.topic(name);
      const batching = { maxMessages: 1_000, maxMilliseconds: 1 };
      publishers = { ordered: this.pubsub.topic(name, { messageOrdering: true, batching }), unordered: this.pubsub.topic(name, { batching }) };
      this.publishers.set(name, publishers);
    }
    return publishers;
  }
}

export const driverFactory: DriverFactory = {
  schemes: ['pubsub'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    const projectId = url.hostname;
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
      throw new ConfigError('url host', `pubsub://PROJECT needs a Google Cloud project id (6–30 lowercase letters, digits, hyphens), got "${projectId}"`);
    }
    let emulator: { host: string; port: number } | undefined;
    if (options.emulator) emulator = hostAndPort(new URL(`http://${options.emulator}`), 8085);
    const pubsub = new PubSub({ projectId, ...(emulator ? { apiEndpoint: `${emulator.host}:${emulator.port}`, emulatorMode: true, universeDomain: 'googleapis.com' } : {}) });
    const where = emulator ? `the emulator at ${emulator.host}:${emulator.port}` : `Google Cloud project ${projectId}`;
    await firstContact(`Pub/Sub (${where})`, () => pubsub.getTopics({ pageSize: 1, gaxOpts: { timeout: options.connectTimeoutMs } }), () => pubsub.close(), options.connectTimeoutMs);
    return new PubSubDriver(pubsub, options.maxMessageBytes);
  },
};
