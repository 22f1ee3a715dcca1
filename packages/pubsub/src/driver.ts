import { randomBytes } from 'node:crypto';
import { PubSub, v1, type Topic } from '@google-cloud/pubsub';
import { ConfigError, describeError, SendError, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { asBuffer, firstContact, hostAndPort, OpenSubscriptions, readUrlOptions, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { toAttributes } from './attributes.js';
import { IncompleteReplyError, PublishBatcher } from './publish-batcher.js';
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
  /** Delayed sends: core's delay queue per topic, its waiting messages held by the mover (a nack with a delay holds in the process). */
  readonly traits = { retryKeepsKeyOrder: false, idsFromBroker: false, unsettledBlocksKey: true, portableDelays: { hopMs: 5 * 60_000, maxWaiting: 10_000 } };
  private readonly topology: PubSubTopology;
  /** Per topic: the library's publisher with message ordering (keyed messages), and brokerkit's for the rest. */
  private readonly publishers = new Map<string, { ordered: Topic; unordered: PublishBatcher }>();
  /** The service's publish call, for messages without a key (see `send`); made on first use. */
  private publisherClient: Promise<v1.PublisherClient> | undefined;
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
    await this.topology.subscription(name, name, { ackDeadlineSeconds: 10, ordering: true, asFound: true });
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
    await this.topology.subscription(spec.topic, spec.subscription, topologySettings(spec, spec.deadLetterQueue));
  }

  /**
   * Messages without a key go out through the service's client (`v1.PublisherClient`, which
   * retries as the library's publisher does), the sends of 1 ms gathered into one request as the
   * library's publisher gathers them. The library's publisher would also copy each request deeply
   * and search every string in it for a project-id placeholder: 3–5 µs per message with
   * brokerkit's two attributes, more than the rest of the send. Keyed messages go through the
   * library's ordered publisher, which sends a key's messages one request at a time and pauses
   * the key after a failure, so Pub/Sub keeps them in the order they were sent.
   */
  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    // Every message is encoded before any is sent: a bad one sends nothing.
    const prepared = messages.map((message) => ({ data: asBuffer(message.body), attributes: toAttributes(message) }));
    const { ordered, unordered } = await this.publisher(topic);
    const brokerIds = new Array<string>(messages.length);
    const failed: { message: EncodedMessage; error: unknown }[] = [];
    const unkeyed: number[] = [];
    const sends: Promise<void>[] = [];
    messages.forEach((message, index) => {
      const key = message.key;
      if (!key) {
        unkeyed.push(index);
        return;
      }
      sends.push(
        ordered.publishMessage({ ...(prepared[index] as (typeof prepared)[number]), orderingKey: key }).then(
          (id) => void (brokerIds[index] = id),
          (error: unknown) => {
            // A failed publish pauses its ordering key in the library until resumed.
            ordered.resumePublishing(key);
            failed.push({ message, error });
          },
        ),
      );
    });
    if (unkeyed.length > 0) {
      const items = unkeyed.length === messages.length ? prepared : unkeyed.map((index) => prepared[index] as (typeof prepared)[number]);
      sends.push(
        unordered.add(items).then(
          (ids) => unkeyed.forEach((index, at) => (brokerIds[index] = ids[at] as string)),
          (error: unknown) => {
            for (const index of unkeyed) failed.push({ message: messages[index] as EncodedMessage, error });
          },
        ),
      );
    }
    await Promise.all(sends);
    if (failed.length > 0) {
      const detail = failed.map(({ message, error }) => `${message.id} (${describeError(error)})`).join(', ');
      // Not retriable when the service took messages it did not name: a retry would publish them twice.
      const retriable = !failed.some(({ error }) => error instanceof IncompleteReplyError);
      throw new SendError(`Pub/Sub refused ${failed.length} of ${messages.length} messages to ${topic}: ${detail}`, { cause: failed[0]?.error, retriable });
    }
    // The server's message id, as the subscriber's native message shows it. Not the message id:
    // a copy Pub/Sub's dead-letter policy forwards gets a new one, and `bk-id` keeps ours.
    return messages.map((message, index) => ({ id: message.id, brokerId: brokerIds[index] as string }));
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
    // Both publishers' last requests have their replies before the client closes under them.
    await Promise.allSettled([...this.publishers.values()].flatMap(({ ordered, unordered }) => [ordered.flush(), unordered.flush()]));
    await this.closeClient();
    await this.pubsub.close();
  }

  async destroy(): Promise<void> {
    // Drop everything without acking or nacking: the server redelivers after the ack deadline.
    await this.subscriptions.settleAll((s) => s.abandon());
    await this.closeClient();
    await this.pubsub.close().catch(() => undefined);
  }

  native(): PubSub {
    return this.pubsub;
  }

  /** The publishers of topic `name`, once the topic exists. */
  private async publisher(name: string): Promise<{ ordered: Topic; unordered: PublishBatcher }> {
    let publishers = this.publishers.get(name);
    if (!publishers) {
      await this.topology.topic(name);
      const ordered = this.pubsub.topic(name, { messageOrdering: true, batching: { maxMessages: MAX_PUBLISH_MESSAGES, maxMilliseconds: PUBLISH_WINDOW_MS } });
      const unordered = new PublishBatcher({ maxMessages: MAX_PUBLISH_MESSAGES, maxBytes: this.limits.maxBatchBytes, windowMs: PUBLISH_WINDOW_MS }, async (messages) => {
        const [response] = await (await this.client()).publish({ topic: ordered.name, messages }, PUBLISH_CALL);
        return response.messageIds ?? [];
      });
      publishers = { ordered, unordered };
      this.publishers.set(name, publishers);
    }
    return publishers;
  }

  private client(): Promise<v1.PublisherClient> {
    // The library's own settings (project, emulator address, credentials), as it documents for v1 clients.
    this.publisherClient ??= this.pubsub.getClientConfig().then((config) => new v1.PublisherClient(config as ConstructorParameters<typeof v1.PublisherClient>[0]));
    return this.publisherClient;
  }

  private async closeClient(): Promise<void> {
    const client = this.publisherClient;
    this.publisherClient = undefined;
    await client?.then((made) => made.close()).catch(() => undefined);
  }
}

/** Pub/Sub takes at most 1 000 messages in one publish request. */
const MAX_PUBLISH_MESSAGES = 1_000;
/** How long a publish waits for others to share its request: the library publisher's setting here before. */
const PUBLISH_WINDOW_MS = 1;
/** One request per call: the service client otherwise gathers publishes for up to 10 ms (gax bundling), as the library's publisher also turns off. */
const PUBLISH_CALL = { isBundling: false } as const;

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
