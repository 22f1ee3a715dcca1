import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type LogEntry, type Producer as KafkaProducer, type RecordMetadata } from 'kafkajs';
import { describeError, SendError, TopologyError, type Backlog, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { firstContact, hostsOf, OpenSubscriptions, readUrlOptions, type Delivery, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { kafkaCapabilities } from './capabilities.js';
import { installDecoder } from './record-decoder.js';
import { installEncoders } from './record-encoder.js';
import { socketFactory } from './socket.js';
import { fixRequestQueueTimer } from './request-queue-fix.js';
import { HOLD_UNDER_MS, LONGEST_STAGE_MS, STAGES_MS, stageConfig, stageFor, stageTopic } from './delay-stages.js';
import { KafkaSubscription } from './subscription.js';
import { RenewingProducer, positionsOf, producerOptions, type PlacedRecord } from './producer.js';
import { KafkaTopology } from './topology.js';
import { ATTEMPT_HEADER, DUE_HEADER, toRecord } from './wire.js';

const urlOptions = {
  clientId: { type: 'string', pattern: /^[\w.-]{1,100}$/, default: 'brokerkit', doc: 'client id the broker logs and quotas see' },
  brokers: { type: 'string', pattern: /^[\w.-]+:\d+(,[\w.-]+:\d+)*$/, doc: 'more bootstrap brokers, host:port,host:port' },
  partitions: { type: 'int', min: 1, max: 10_000, default: 6, doc: 'partitions of topics brokerkit creates' },
  replicationFactor: { type: 'int', min: 1, max: 32, doc: "replication of topics brokerkit creates (default: the broker's)" },
  tls: { type: 'bool', default: false, doc: 'TLS to the brokers' },
  maxMessageBytes: { type: 'int', min: 1, max: 100 * 1_048_576, default: 1_000_000, doc: "largest message in bytes (the broker's message.max.bytes is 1 MB by default)" },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the brokers' },
  patchKafkajs: { type: 'bool', default: true, doc: "put brokerkit's record codecs and request-queue timer fix in kafkajs' place, for every kafkajs client in the process (false: kafkajs stays as it is)" },
} as const;

/** `BROKERKIT_KAFKA_PATCH_KAFKAJS=false` leaves kafkajs as it is for the whole process, whatever the URLs say. */
export function patchesWanted(fromUrl: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const fromEnv = env.BROKERKIT_KAFKA_PATCH_KAFKAJS?.trim().toLowerCase();
  if (fromEnv === 'false' || fromEnv === '0') return false;
  return fromUrl;
}

/**
 * kafkajs logs JSON to the console at INFO by default, including routine rebalances. Its
 * errors reach brokerkit's callers as thrown errors; the log is shown only when asked for
 * (BROKERKIT_KAFKA_LOG=debug|info|warn|error).
 */
function logCreator(): (entry: LogEntry) => void {
  return ({ namespace, level, log }) => {
    const { message, ...extra } = log;
    process.stderr.write(`[kafkajs ${logLevel[level]}] ${namespace}: ${message} ${JSON.stringify(extra)}\n`);
  };
}
const LOG_LEVELS: Record<string, logLevel> = { debug: logLevel.DEBUG, info: logLevel.INFO, warn: logLevel.WARN, error: logLevel.ERROR };

class KafkaDriver implements Driver {
  readonly backend = 'kafka';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  // A delayed retry would let later messages of the key pass: with ordering 'key', core retries in place.
  // Delayed sends: core's delay queue per topic, its mover's nacks through stage topics (delay-stages.ts);
  // a topic's mover (a consumer group) starts only once the topic has had a delayed send.
  readonly traits = {
    retryKeepsKeyOrder: false,
    idsFromBroker: true,
    portableDelays: { hopMs: LONGEST_STAGE_MS, queueExists: (name: string) => this.topology.topicExists(name) },
  };
  private readonly subscriptions = new OpenSubscriptions<KafkaSubscription>();

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly producer: RenewingProducer,
    private readonly topology: KafkaTopology,
    maxMessageBytes: number,
    partitions: number,
  ) {
    this.capabilities = kafkaCapabilities(maxMessageBytes, partitions);
    this.limits = { maxMessageBytes, maxBatchMessages: 1_000, maxBatchBytes: maxMessageBytes };
  }

  async ensureQueue(name: string): Promise<void> {
    await this.topology.ensureTopic(name);
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    await Promise.all([this.topology.ensureTopic(spec.topic), this.topology.ensureTopic(retryTopic(spec.subscription))]);
  }

  /**
   * Promise chains rather than async functions, from here to kafkajs, and no wait for a topic
   * already known: one message sent at a time went through five async frames and one extra
   * turn of the microtask queue, each with allocations of its own.
   */
  send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    const records = messages.map((message) => toRecord(message));
    const replies = this.topology.hasTopic(topic) ? this.produce(topic, records) : this.topology.ensureTopic(topic).then(() => this.produce(topic, records));
    return replies.then((metadata) => {
      const positions = positionsOf(topic, records, metadata);
      return messages.map((message, index) => {
        const position = positions[index] as string;
        return { id: message.id === '' ? position : message.id, brokerId: position };
      });
    });
  }

  /**
   * On a cluster, a topic just created may not be known yet to the broker a consumer asks
   * ("This server does not host this topic-partition", seen in 2 of about 12 CI runs of the
   * three-node cluster while twelve subscriptions attached at once): that is waited out, a few
   * times, with a consumer made afresh each time.
   */
  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    for (let attempt = 1; ; attempt += 1) {
      const subscription = await this.newSubscription(spec);
      try {
        await subscription.start();
        return this.subscriptions.track(subscription);
      } catch (error) {
        if (attempt >= NEW_TOPIC_ATTEMPTS || !/does not host this topic-partition/i.test(describeError(error))) throw error;
        await subscription.abandon().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  private async newSubscription(spec: SubscriptionSpec): Promise<KafkaSubscription> {
    if (spec.durable && spec.delayMover) {
      const stages = STAGES_MS.map((ms) => ({ topic: stageTopic(spec.topic, ms), config: stageConfig(ms) }));
      await Promise.all([this.topology.ensureTopic(spec.topic), ...stages.map(({ topic, config }) => this.topology.ensureTopic(topic, config))]);
      return new KafkaSubscription(this.kafka, this.topology, spec, spec.subscription, {
        topics: stages.map(({ topic }) => topic),
        holdUnderMs: HOLD_UNDER_MS,
        send: (delivery, attempt, dueAt) => {
          // Back after the longest stage that is not longer than the wait: due in the order written.
          const ms = stageFor(dueAt - Date.now());
          return this.sendRetry(stageTopic(spec.topic, ms), delivery, attempt, Date.now() + ms);
        },
      });
    }
    if (spec.durable) {
      await this.ensureSubscription(spec);
      const topic = retryTopic(spec.subscription);
      return new KafkaSubscription(this.kafka, this.topology, spec, spec.subscription, {
        topics: [topic],
        holdUnderMs: 0,
        send: (delivery, attempt, dueAt) => this.sendRetry(topic, delivery, attempt, dueAt),
      });
    }
    const group = `${spec.subscription}-live-${randomBytes(4).toString('hex')}`;
    await this.topology.ensureTopic(spec.topic);
    return new KafkaSubscription(this.kafka, this.topology, spec, group, undefined);
  }

  /** The group's lag on the topic and its retry topic (a group without commits reads from the earliest record). */
  async backlog(topic: string, subscription: string): Promise<Backlog> {
    let messages = 0;
    for (const name of [topic, retryTopic(subscription)]) {
      let ends: { partition: number; offset: string; low: string }[];
      try {
        ends = await this.admin.fetchTopicOffsets(name);
      } catch (error) {
        if (!/does not host this topic-partition|UNKNOWN_TOPIC/i.test(describeError(error))) throw error;
        // A queue declared with ensureQueue has no retry topic until its first consumer: nothing retried yet.
        if (name !== topic) continue;
        throw new TopologyError(`no topic ${name} for subscription ${subscription} (declare it with ensureSubscription or ensureQueue)`, { cause: error });
      }
      const committed = await this.topology.committed(subscription, name);
      for (const { partition, offset, low } of ends) {
        const at = Number(committed.get(partition)?.offset ?? -1);
        messages += Math.max(0, Number(offset) - (at >= 0 ? at : Number(low)));
      }
    }
    return { messages, approximate: false, counts: 'records past the committed offsets (lag)' };
  }

  async ping(): Promise<{ version?: string }> {
    const cluster = await this.admin.describeCluster();
    return { version: `cluster ${cluster.clusterId}, ${cluster.brokers.length} broker(s)` };
  }

  async close(): Promise<void> {
    await this.subscriptions.settleAll();
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  async destroy(): Promise<void> {
    await this.subscriptions.settleAll((s) => s.abandon());
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
  }

  /** `producer` resolves to the producer in use (it is renewed after a failed send). */
  native(): { kafka: Kafka; producer: Promise<KafkaProducer>; admin: Admin } {
    return { kafka: this.kafka, producer: this.producer.active, admin: this.admin };
  }

  private async sendRetry(topic: string, delivery: Delivery, attempt: number, dueAt: number): Promise<void> {
    await this.topology.ensureTopic(topic);
    await this.produce(topic, [toRecord(delivery.message, { [ATTEMPT_HEADER]: String(attempt), [DUE_HEADER]: String(dueAt) })]);
  }

  private produce(topic: string, records: PlacedRecord[]): Promise<RecordMetadata[]> {
    return this.producer.send({ topic, acks: -1, messages: records }).catch((error: unknown) => {
      const retriable = (error as { retriable?: boolean }).retriable === true;
      throw new SendError(`Kafka did not accept ${records.length} message(s) to ${topic}: ${describeError(error)}`, { cause: error, retriable });
    });
  }
}

const retryTopic = (subscription: string): string => `${subscription}.retry`;
/** Attempts to attach while a new topic becomes known across a cluster (waits 0.25, 0.5, … 1.5 s: about 5 s). */
const NEW_TOPIC_ATTEMPTS = 7;

export const driverFactory: DriverFactory = {
  schemes: ['kafka'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    if (patchesWanted(options.patchKafkajs)) {
      installEncoders();
      installDecoder();
      fixRequestQueueTimer();
    }
    // Every host of the URL bootstraps (kafka://h1:9092,h2:9093), and `brokers` adds more.
    const brokers = [...hostsOf(url, 9092).map(({ host, port }) => `${host}:${port}`), ...(options.brokers ? options.brokers.split(',') : [])];
    const wanted = process.env.BROKERKIT_KAFKA_LOG?.toLowerCase();
    const kafka = new Kafka({
      clientId: options.clientId,
      brokers,
      ssl: options.tls,
      connectionTimeout: options.connectTimeoutMs,
      requestTimeout: 30_000,
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
      logLevel: wanted && LOG_LEVELS[wanted] !== undefined ? LOG_LEVELS[wanted] : logLevel.NOTHING,
      logCreator,
      socketFactory,
    });
    const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 } });
    const producer = kafka.producer(producerOptions);
    const where = brokers.join(',');
    await firstContact(
      `Kafka at ${where}`,
      () => Promise.all([admin.connect(), producer.connect()]),
      () => Promise.all([admin.disconnect(), producer.disconnect()]),
      options.connectTimeoutMs * 2,
    );
    const topology = new KafkaTopology(admin, options.partitions, options.replicationFactor);
    return new KafkaDriver(kafka, admin, new RenewingProducer(kafka, producer), topology, options.maxMessageBytes, options.partitions);
  },
};
