import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ConfigError, describeError, SendError, TopologyError, type Backlog, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { firstContact, hostsOf, isPartitioned, OpenSubscriptions, readUrlOptions, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { redisCapabilities } from './capabilities.js';
import { EphemeralSubscription } from './ephemeral-subscription.js';
import { positionOf, toFields } from './fields.js';
import { DelayMovers, sendDelayed } from './delays.js';
import { GroupSubscription, groupBacklog } from './group-subscription.js';
import { PartitionedSubscription } from './partitioned-subscription.js';
import { declarePartitions, isDeclaredPartitioned, partitionKeys } from './partitions.js';
import { blockingConnection, type BlockingReader, type RedisClient } from './reader.js';

const urlOptions = {
  maxLen: { type: 'int', min: 1, doc: 'approximate stream length cap (XADD MAXLEN ~); unbounded when absent' },
  maxMessageBytes: { type: 'int', min: 1, max: 512 * 1_048_576, default: 1_048_576, doc: 'largest message in bytes' },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the server' },
  cluster: { type: 'bool', default: false, doc: 'a Redis Cluster (implied when the URL names several hosts)' },
  waitReplicas: { type: 'int', min: 0, max: 16, default: 0, doc: 'after each send, WAIT until this many replicas have the entries' },
  waitTimeoutMs: { type: 'int', min: 1, max: 60_000, default: 1_000, doc: 'longest WAIT for the replicas' },
  partitions: { type: 'int', min: 1, max: 256, default: 8, doc: "partition streams of a key-ordered subscription (fixed once declared)" },
} as const;

type Settings = { maxLen: number | undefined; maxMessageBytes: number; connectTimeoutMs: number; cluster: boolean; waitReplicas: number; waitTimeoutMs: number; partitions: number };

class RedisDriver implements Driver {
  readonly backend = 'redis';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  readonly traits = { retryKeepsKeyOrder: false, idsFromBroker: true };
  private readonly readers = new OpenSubscriptions<BlockingReader>();
  private readonly delays: DelayMovers;
  /** Unique per connection: a consumer name in every group it joins. */
  private readonly consumerName = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly client: RedisClient,
    private readonly settings: Settings,
  ) {
    this.capabilities = redisCapabilities(settings.maxMessageBytes);
    this.delays = new DelayMovers(client, settings.maxLen);
    this.limits = { maxMessageBytes: settings.maxMessageBytes, maxBatchMessages: 500, maxBatchBytes: 16 * 1_048_576 };
  }

  async ensureQueue(name: string): Promise<void> {
    await this.createGroup(name, name, '0');
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    // A queue keeps what was sent before its first consumer; a topic subscription starts now.
    await this.createGroup(spec.topic, spec.subscription, spec.topic === spec.subscription ? '0' : '$');
    if (isPartitioned(spec)) await declarePartitions(this.client, partitionKeys(spec.topic, spec.subscription, this.settings.partitions));
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
  }

  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    if (messages.some((message) => message.deliverAt !== undefined)) return this.sendSomeDelayed(topic, messages);
    const trim = this.settings.maxLen === undefined ? [] : ['MAXLEN', '~', this.settings.maxLen];
    const { waitReplicas, waitTimeoutMs } = this.settings;
    if (messages.length === 1 && waitReplicas === 0) {
      // One message: a plain XADD, without a pipeline's bookkeeping.
      const message = messages[0] as EncodedMessage;
      try {
        return [receiptOf(topic, message, String(await this.client.xadd(topic, ...(trim as ['MAXLEN', '~', number]), '*', ...toFields(message))))];
      } catch (error) {
        throw xaddFailed(topic, message, 0, 1, error as Error);
      }
    }
    const pipeline = this.client.pipeline();
    for (const message of messages) pipeline.xadd(topic, ...(trim as ['MAXLEN', '~', number]), '*', ...toFields(message));
    // WAIT in the same pipeline goes to the same primary, right after the writes it waits for.
    if (waitReplicas > 0) pipeline.call('WAIT', waitReplicas, waitTimeoutMs);
    const results = await pipeline.exec();
    if (!results) throw new SendError(`XADD to ${topic} was discarded`, { retriable: true });
    const receipts = messages.map((message, index) => {
      const [error, entryId] = results[index] ?? [new Error('no reply')];
      if (error) throw xaddFailed(topic, message, index, messages.length, error);
      return receiptOf(topic, message, String(entryId));
    });
    if (waitReplicas > 0) {
      const [error, acknowledged] = results[messages.length] ?? [new Error('no reply')];
      if (error || Number(acknowledged) < waitReplicas) {
        // Written to the primary, not yet to enough replicas: a failover now could lose it, so
        // the send is not confirmed. Sending again is safe for at-least-once (a duplicate at worst).
        throw new SendError(
          `XADD to ${topic}: ${error ? `WAIT failed: ${error.message}` : `${Number(acknowledged)} of ${waitReplicas} replica(s) had the entries after ${waitTimeoutMs} ms`} (waitReplicas)`,
          { retriable: true, ...(error ? { cause: error } : {}) },
        );
      }
    }
    return receipts;
  }

  /** Delayed messages wait beside the topic (delays.ts); the others go to it, in one send. */
  private async sendSomeDelayed(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    const delayed = messages.filter((message) => message.deliverAt !== undefined);
    const now = messages.filter((message) => message.deliverAt === undefined);
    const [receiptsNow] = await Promise.all([
      now.length > 0 ? this.send(topic, now) : Promise.resolve([]),
      sendDelayed(this.client, topic, delayed).catch((error: Error) => {
        throw new SendError(`keeping ${delayed.length} delayed message(s) for ${topic} failed: ${error.message}`, { cause: error, retriable: true });
      }),
    ]);
    const byId = new Map(receiptsNow.map((receipt, index) => [now[index] as EncodedMessage, receipt]));
    return messages.map((message) => byId.get(message) ?? { id: message.id });
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    if (spec.durable && !isPartitioned(spec) && (await isDeclaredPartitioned(this.client, spec.topic, spec.subscription))) {
      // Its router takes every new entry of the group: a consumer of the group itself would share them, unordered.
      throw new TopologyError(`subscription ${spec.subscription} of ${spec.topic} is consumed with ordering 'key' (partitioned): attach with ordering 'key', or use another subscription`);
    }
    // Blocking reads on a connection of their own.
    const blocking = await blockingConnection(this.client, `brokerkit-${spec.subscription}`);
    const reader = isPartitioned(spec)
      ? new PartitionedSubscription(this.client, blocking, partitionKeys(spec.topic, spec.subscription, this.settings.partitions), this.consumerName)
      : spec.durable
      ? new GroupSubscription(this.client, blocking, { stream: spec.topic, group: spec.subscription, consumer: this.consumerName, ackTimeoutMs: spec.ackTimeoutMs })
      : new EphemeralSubscription(this.client, blocking, spec.topic);
    if (!spec.durable) await this.createStream(spec.topic);
    await reader.start();
    // Every subscriber of a topic moves its due delayed messages into it.
    const stopMoving = this.delays.watch(spec.topic);
    const tracked = this.readers.track(reader);
    return {
      receive: (max, signal) => tracked.receive(max, signal),
      close: async () => {
        stopMoving();
        await tracked.close();
      },
    };
  }

  /**
   * Entries the group has not read (its lag) plus those read and not acknowledged (pending);
   * for a key-ordered subscription, what the router has not moved yet plus each partition's.
   */
  async backlog(topic: string, subscription: string): Promise<Backlog> {
    const streams = [topic];
    if (await isDeclaredPartitioned(this.client, topic, subscription)) {
      const declared = Number(await this.client.get(partitionKeys(topic, subscription, 0).count));
      streams.push(...partitionKeys(topic, subscription, declared).streams);
    }
    let messages = 0;
    let approximate = false;
    let oldest = Infinity;
    for (const stream of streams) {
      const found = await groupBacklog(this.client, stream, subscription);
      messages += found.messages;
      approximate ||= found.approximate;
      if (found.oldestPublishedAt !== undefined) oldest = Math.min(oldest, found.oldestPublishedAt);
    }
    return { messages, ...(Number.isFinite(oldest) ? { oldestAgeMs: Math.max(0, Date.now() - oldest) } : {}), approximate, counts: 'unread (lag) and pending entries of the group' };
  }

  async ping(): Promise<{ version?: string }> {
    const info = await this.client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    return version ? { version: `Redis ${version}` } : {};
  }

  async close(): Promise<void> {
    this.delays.stopAll();
    await this.readers.settleAll();
    await this.client.quit().catch(() => this.client.disconnect());
  }

  async destroy(): Promise<void> {
    this.delays.stopAll();
    void this.readers.settleAll();
    this.client.disconnect();
  }

  /** The ioredis client: a `Redis`, or a `Cluster` for a Redis Cluster URL. */
  native(): RedisClient {
    return this.client;
  }

  private async createGroup(stream: string, group: string, startId: '0' | '$'): Promise<void> {
    try {
      await this.client.xgroup('CREATE', stream, group, startId, 'MKSTREAM');
    } catch (error) {
      if (/BUSYGROUP/.test(String(error))) return;
      throw new TopologyError(`creating consumer group ${group} on stream ${stream} failed: ${describeError(error)}`, { cause: error });
    }
  }

  /** An ephemeral reader needs the stream to exist to find its last entry; no group is made. */
  private async createStream(stream: string): Promise<void> {
    await this.createGroup(stream, 'brokerkit-stream-anchor', '$');
  }
}

function connectionOptions(url: URL, settings: Settings): RedisOptions {
  const [{ host, port }] = hostsOf(url, 6379) as [{ host: string; port: number }];
  const dbText = url.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d+$/.test(dbText)) throw new ConfigError('url path', `"/${dbText}" is not a database number (redis://host:6379/0)`);
  return {
    host,
    port,
    db: dbText === '' ? 0 : Number(dbText),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: host } } : {}),
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    // The first connection fails fast with a typed error; once up, ioredis reconnects by itself.
    retryStrategy: () => null,
    maxRetriesPerRequest: 3,
    enableOfflineQueue: true,
  };
}

/**
 * A Redis Cluster: every host of the URL is a seed (one reachable is enough); the client learns
 * the slots from it and follows them through failovers. Database 0 only, as a cluster has no other.
 */
function clusterClient(url: URL, options: RedisOptions): Cluster {
  if (options.db !== 0) throw new ConfigError('url path', `a Redis Cluster has only database 0, the URL names ${options.db}`);
  const { host: _host, port: _port, db: _db, retryStrategy: _retry, lazyConnect: _lazy, maxRetriesPerRequest, enableOfflineQueue, ...redisOptions } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions,
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    maxRedirections: 16,
    // A failover takes the cluster a few seconds (cluster-node-timeout plus the election):
    // commands wait for the new owner of their slot rather than failing at once.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    slotsRefreshTimeout: options.connectTimeout ?? 5_000,
    ...(maxRetriesPerRequest === undefined ? {} : { maxRetriesPerRequest }),
    ...(enableOfflineQueue === undefined ? {} : { enableOfflineQueue }),
  };
  return new Cluster(hostsOf(url, 6379), clusterOptions);
}

export const driverFactory: DriverFactory = {
  schemes: ['redis', 'rediss'],
  async open(url: URL): Promise<Driver> {
    const settings = readUrlOptions(url, urlOptions);
    const hosts = hostsOf(url, 6379);
    const options = connectionOptions(url, settings);
    const cluster = settings.cluster || hosts.length > 1;
    const where = hosts.map((each) => `${each.host}:${each.port}`).join(', ');
    if (cluster) {
      const client = clusterClient(url, options);
      client.on('error', () => undefined); // surfaced by the failing command instead
      await firstContact(`Redis Cluster at ${where}`, () => client.connect(), () => client.disconnect());
      client.options.clusterRetryStrategy = (times) => Math.min(100 * 2 ** times, 2_000);
      return new RedisDriver(client, { ...settings, cluster: true });
    }
    const client = new Redis(options);
    client.on('error', () => undefined); // surfaced by the failing command instead
    await firstContact(`Redis at ${where}`, () => client.connect(), () => client.disconnect());
    client.options.retryStrategy = (times) => Math.min(100 * 2 ** times, 2_000);
    return new RedisDriver(client, settings);
  },
};

/** A message sent without an id is named by its entry. */
const receiptOf = (stream: string, message: EncodedMessage, entryId: string): SendReceipt => ({ id: message.id === '' ? positionOf(stream, entryId) : message.id, brokerId: entryId });

const xaddFailed = (topic: string, message: EncodedMessage, index: number, count: number, error: Error): SendError => {
  const which = message.id !== '' ? `message ${message.id}` : count === 1 ? 'the message' : `message ${index + 1} of ${count}`;
  return new SendError(`XADD to ${topic} failed for ${which}: ${error.message}`, { cause: error, retriable: true });
};
