import { TopologyError, type Backlog, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { firstContact, hostsOf, isPartitioned, OpenSubscriptions, readUrlOptions, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { rabbitCapabilities } from './capabilities.js';
import { RabbitConnection } from './connection.js';
import { toAmqp } from './message.js';
import { Publisher } from './publisher.js';
import { PartitionedSubscription } from './partitioned-subscription.js';
import { declarePartitions, inspectQueue, partitionQueue, retirePlainQueue } from './partitions.js';
import { RabbitSubscription } from './subscription.js';
import { WORK_QUEUE, declare, delayBucketMs, delayQueueArguments, delayQueueName, ExpiringQueues } from './topology.js';

const MAX_PARTITIONS = 256;

const urlOptions = {
  maxMessageBytes: { type: 'int', min: 1, max: 128 * 1_048_576, default: 1_048_576, doc: 'largest message in bytes' },
  heartbeat: { type: 'int', min: 0, max: 600, default: 30, doc: 'heartbeat interval in seconds' },
  frameMax: { type: 'int', min: 4_096, doc: 'largest AMQP frame in bytes' },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the broker' },
  confirmTimeoutMs: { type: 'int', min: 100, max: 600_000, default: 15_000, doc: 'how long a send waits for the broker to confirm it' },
  partitions: { type: 'int', min: 1, max: MAX_PARTITIONS, default: 8, doc: "partition queues of a key-ordered subscription (fixed once declared)" },
} as const;

/** What `queues` remembers for a subscription this process partitioned. */
const partitionsKey = (topic: string, subscription: string): string => `${topic}\u0000${subscription}\u0000partitions`;

class RabbitDriver implements Driver {
  readonly backend = 'rabbitmq';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  readonly traits = { retryKeepsKeyOrder: false, idsFromBroker: false };
  private readonly publisher: Publisher;
  private readonly delays: DelayQueues;
  private readonly subscriptions = new OpenSubscriptions<RabbitSubscription | PartitionedSubscription>();
  private readonly queues = new Set<string>();

  constructor(
    private readonly connection: RabbitConnection,
    maxMessageBytes: number,
    private readonly partitions: number,
    confirmTimeoutMs: number,
  ) {
    this.capabilities = rabbitCapabilities(maxMessageBytes);
    this.limits = { maxMessageBytes, maxBatchMessages: 1_000, maxBatchBytes: 16 * 1_048_576 };
    this.publisher = new Publisher(connection, confirmTimeoutMs);
    this.delays = new DelayQueues(connection);
  }

  async ensureQueue(name: string): Promise<void> {
    await this.bindQueue(name, name);
  }

  /** Key-ordered: partitions (a plain queue declared earlier is retired); otherwise one quorum queue. */
  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    if (isPartitioned(spec)) await this.partition(spec.topic, spec.subscription);
    else await this.bindQueue(spec.topic, spec.subscription);
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
  }

  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    await this.publisher.ensureExchange(topic);
    const outgoing = [];
    for (const message of messages) {
      const delayMs = message.deliverAt === undefined ? 0 : message.deliverAt - Date.now();
      if (delayMs <= 0) outgoing.push(toAmqp(topic, message));
      // Published when due, as far as the receiver can tell.
      else outgoing.push(toAmqp(await this.delays.exchangeFor(topic, delayMs), message, { publishedAt: new Date(message.deliverAt as number) }));
    }
    await this.publisher.publish(outgoing);
    return messages.map((message) => ({ id: message.id }));
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    const subscription =
      isPartitioned(spec) ? new PartitionedSubscription(this.connection, this.publisher, spec, this.partitions) : new RabbitSubscription(this.connection, this.publisher, spec);
    await subscription.attach();
    return this.subscriptions.track(subscription);
  }

  /** Ready messages of the subscription's queue, and of each of its partitions if it was partitioned. */
  async backlog(_topic: string, subscription: string): Promise<Backlog> {
    const plain = await inspectQueue(this.connection.model, subscription);
    let messages = Math.max(0, plain?.messageCount ?? 0);
    let found = plain !== undefined;
    for (let index = 0; index < MAX_PARTITIONS; index += 1) {
      const partition = await inspectQueue(this.connection.model, partitionQueue(subscription, index));
      if (!partition) break;
      found = true;
      messages += Math.max(0, partition.messageCount);
    }
    if (!found) throw new TopologyError(`no subscription ${subscription}: no queue of that name (declare it with ensureSubscription or ensureQueue)`);
    return { messages, approximate: false, counts: 'ready messages (not those delivered and unacknowledged)' };
  }

  async ping(): Promise<{ version?: string }> {
    const model = await this.connection.whenUp(5_000);
    // A real round trip: open and close a channel.
    const channel = await model.createChannel();
    await channel.close();
    const version = model.connection.serverProperties.version;
    return version ? { version: `RabbitMQ ${version}` } : {};
  }

  async close(): Promise<void> {
    await this.subscriptions.settleAll();
    await this.publisher.close();
    await this.connection.close();
  }

  async destroy(): Promise<void> {
    this.connection.destroy();
  }

  native(): unknown {
    return this.connection.model;
  }

  private async partition(topic: string, subscription: string): Promise<void> {
    const key = partitionsKey(topic, subscription);
    if (this.queues.has(key)) return;
    await this.publisher.ensureExchange(topic);
    await declarePartitions(this.connection.model, topic, subscription, this.partitions);
    await retirePlainQueue(this.connection.model, topic, subscription);
    this.queues.add(key);
  }

  /** Exchange `topic`, quorum queue `queue`, bound with '#': every message of the topic. */
  private async bindQueue(topic: string, queue: string): Promise<void> {
    const key = `${topic}\u0000${queue}`;
    // Partitioned by a key-ordered consumer of this process: binding the plain queue again would double every message.
    if (this.queues.has(key) || this.queues.has(partitionsKey(topic, queue))) return;
    await this.publisher.ensureExchange(topic);
    await declare(this.connection.model, `quorum queue ${queue} on exchange ${topic}`, async (channel) => {
      await channel.assertQueue(queue, WORK_QUEUE);
      await channel.bindQueue(queue, topic, '#');
    });
    this.queues.add(key);
  }
}

/** Delayed sends wait in a queue per (topic, delay bucket) behind a fanout exchange of the same name: expiring queues, declared again while used. */
class DelayQueues {
  private readonly queues: ExpiringQueues;

  constructor(connection: RabbitConnection) {
    this.queues = new ExpiringQueues(() => connection.model);
  }

  async exchangeFor(topic: string, delayMs: number): Promise<string> {
    const bucketMs = delayBucketMs(delayMs);
    const name = delayQueueName(topic, bucketMs);
    await this.queues.ensure(name, `delay queue ${name}`, async (channel) => {
      await channel.assertExchange(name, 'fanout', { durable: true });
      await channel.assertQueue(name, delayQueueArguments(topic, bucketMs));
      await channel.bindQueue(name, name, '');
    });
    return name;
  }
}

export const driverFactory: DriverFactory = {
  schemes: ['amqp', 'amqps'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    // One URL per node of a cluster (amqp://u:p@h1:5672,h2:5673/): the same credentials, vhost and options on each.
    const hosts = hostsOf(url, url.protocol === 'amqps:' ? 5671 : 5672);
    const vhost = decodeURIComponent(url.pathname.replace(/^\//, '')) || '/';
    const connectUrls = hosts.map(({ host, port }) => {
      const connectUrl = new URL(url.toString());
      connectUrl.hostname = host.includes(':') ? `[${host}]` : host;
      connectUrl.port = String(port);
      connectUrl.search = '';
      connectUrl.searchParams.set('heartbeat', String(options.heartbeat));
      if (options.frameMax !== undefined) connectUrl.searchParams.set('frameMax', String(options.frameMax));
      return connectUrl.toString();
    });
    const where = hosts.map(({ host, port }) => `${host}:${port}`).join(', ');
    const connection = await firstContact(
      `RabbitMQ at ${where} (vhost ${vhost})`,
      () =>
        RabbitConnection.open(connectUrls, { timeout: options.connectTimeoutMs, noDelay: true }, (error) => {
          if (process.env.BROKERKIT_DEBUG) console.error(`[brokerkit] ${error.message}`);
        }),
      () => undefined,
    );
    return new RabbitDriver(connection, options.maxMessageBytes, options.partitions, options.confirmTimeoutMs);
  },
};
