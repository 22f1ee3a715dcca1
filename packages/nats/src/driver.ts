import { connect, nuid, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { ConnectionError, SendError, describeError, type Backlog, type Capabilities, type SendReceipt } from '@brokerkit/core';
import { firstContact, hostsOf, OpenSubscriptions, readUrlOptions, type Driver, type DriverFactory, type DriverLimits, type DriverSubscription, type EncodedMessage, type SubscriptionDeclaration, type SubscriptionSpec } from '@brokerkit/core/driver';
import { natsCapabilities } from './capabilities.js';
import { consumerOf, scheduleSubjectFor, streamOf, subjectOf } from './names.js';
import { NatsSubscription } from './subscription.js';
import { NatsTopology } from './topology.js';
import { toHeaders } from './wire.js';

const DAY_MS = 86_400_000;

const urlOptions = {
  name: { type: 'string', pattern: /^[\w.-]{1,100}$/, default: 'brokerkit', doc: 'connection name the server shows' },
  maxAgeMs: { type: 'int', min: 3_600_000, max: 3_650 * DAY_MS, default: 7 * DAY_MS, doc: 'how long streams brokerkit creates keep messages (max_age)' },
  replicas: { type: 'int', min: 1, max: 5, default: 1, doc: 'replicas of the streams brokerkit creates' },
  connectTimeoutMs: { type: 'int', min: 100, max: 120_000, default: 5_000, doc: 'time to reach the server' },
  tls: { type: 'bool', default: false, doc: 'TLS to the server' },
} as const;

/** Room left in max_payload for header framing (`NATS/1.0`, and `: ` and a line end per header), which the size check does not count. */
const HEADER_FRAMING_BYTES = 1_024;
/** A message due within this much is published at once. */
const SCHEDULE_FROM_MS = 5;
/** The first server version with message schedules (`Nats-Schedule: @at …`). */
const SCHEDULES_SINCE = [2, 12];

/** Whether `version` (`2.15.3`) is at least `SCHEDULES_SINCE`. */
export function hasSchedules(version: string | undefined): boolean {
  const [major = 0, minor = 0] = (version ?? '').split('.').map((part) => Number.parseInt(part, 10) || 0);
  return major > (SCHEDULES_SINCE[0] as number) || (major === SCHEDULES_SINCE[0] && minor >= (SCHEDULES_SINCE[1] as number));
}

class NatsDriver implements Driver {
  readonly backend = 'nats';
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  // A nak with a delay lets later messages of the key pass: with ordering 'key', core retries in place.
  readonly traits;
  private readonly subscriptions = new OpenSubscriptions<NatsSubscription>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly topology: NatsTopology,
    maxAgeMs: number,
    /** The server schedules messages (2.12+): delayed sends are native; else core's portable delays. */
    private readonly schedules: boolean,
  ) {
    const maxMessageBytes = Math.max(1_024, nc.info!.max_payload - HEADER_FRAMING_BYTES);
    // A delayed message waits in its stream: a day short of how long the stream keeps it.
    const maxDelayMs = maxAgeMs - DAY_MS;
    this.capabilities = natsCapabilities(maxMessageBytes, maxAgeMs, maxDelayMs, schedules);
    this.limits = { maxMessageBytes, maxBatchMessages: 1_000, maxBatchBytes: 8 * maxMessageBytes };
    this.traits = schedules ? { retryKeepsKeyOrder: false, idsFromBroker: false } : { retryKeepsKeyOrder: false, idsFromBroker: false, portableDelays: { hopMs: DAY_MS } };
  }

  async ensureQueue(name: string): Promise<void> {
    await this.topology.ensureConsumer(name, name, { ackWaitMs: 30_000, from: 'all' }, true);
  }

  async ensureSubscription(spec: SubscriptionDeclaration): Promise<void> {
    if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
    await this.topology.ensureConsumer(spec.topic, spec.subscription, { ackWaitMs: spec.ackTimeoutMs, from: spec.topic === spec.subscription ? 'all' : 'new' });
  }

  /** Every message published at once (NATS keeps their order on one connection), each confirmed by its PubAck. */
  async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
    const subject = subjectOf(topic);
    if (!this.topology.hasStream(topic)) await this.topology.ensureStream(topic);
    const stream = streamOf(topic);
    const now = Date.now();
    try {
      const acks = await Promise.all(
        messages.map((message) => {
          const options = { headers: toHeaders(message), timeout: 10_000 };
          if (!this.schedules || message.deliverAt === undefined || message.deliverAt <= now + SCHEDULE_FROM_MS) return this.js.publish(subject, message.body, options);
          // A schedule of its own, on a subject of its own: the server publishes it to the topic when due.
          return this.js.publish(scheduleSubjectFor(topic, nuid.next()), message.body, { ...options, schedule: { specification: new Date(message.deliverAt), target: subject } });
        }),
      );
      return messages.map((message, index) => ({ id: message.id, brokerId: `${stream}/${acks[index]?.seq}` }));
    } catch (error) {
      throw new SendError(`NATS did not confirm ${messages.length} message(s) to ${subject}: ${describeError(error)}`, { cause: error, retriable: true });
    }
  }

  async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
    const stream = streamOf(spec.topic);
    // Room for four times the handlers: fewer pull round trips; what waits here burns its ack wait only briefly.
    const highWater = Math.max(64, spec.maxInFlight * 4);
    let subscription: NatsSubscription;
    if (spec.durable) {
      await this.ensureSubscription(spec);
      const consumer = await this.js.consumers.get(stream, consumerOf(spec.subscription));
      subscription = new NatsSubscription(consumer, stream, highWater);
    } else {
      if (spec.deadLetterQueue !== undefined) await this.ensureQueue(spec.deadLetterQueue);
      const name = await this.topology.ephemeralConsumer(spec.topic, spec.ackTimeoutMs);
      const consumer = await this.js.consumers.get(stream, name);
      subscription = new NatsSubscription(consumer, stream, highWater, () => this.topology.deleteConsumer(spec.topic, name));
    }
    await subscription.start();
    return this.subscriptions.track(subscription);
  }

  async backlog(topic: string, subscription: string): Promise<Backlog> {
    const messages = await this.topology.backlog(topic, subscription);
    return { messages, approximate: false, counts: "the consumer's messages not yet delivered, and delivered but not acknowledged" };
  }

  async ping(): Promise<{ version?: string }> {
    await this.nc.rtt();
    return { version: `nats-server ${this.nc.info?.version ?? 'unknown'}` };
  }

  async close(): Promise<void> {
    await this.subscriptions.settleAll();
    await this.nc.drain().catch(() => this.nc.close());
  }

  async destroy(): Promise<void> {
    await this.subscriptions.settleAll((s) => s.abandon());
    await this.nc.close().catch(() => undefined);
  }

  native(): { nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager } {
    return { nc: this.nc, js: this.js, jsm: this.jsm };
  }
}

export const driverFactory: DriverFactory = {
  schemes: ['nats'],
  async open(url: URL): Promise<Driver> {
    const options = readUrlOptions(url, urlOptions);
    const servers = hostsOf(url, 4222).map(({ host, port }) => `${host}:${port}`);
    const where = `NATS at ${servers.join(',')}`;
    let nc: NatsConnection | undefined;
    const jsm = await firstContact(
      where,
      async () => {
        nc = await connect({
          servers,
          name: options.name,
          timeout: options.connectTimeoutMs,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 500,
          ...(url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : {}),
          ...(options.tls ? { tls: {} } : {}),
        });
        return jetstreamManager(nc);
      },
      () => nc?.close(),
      options.connectTimeoutMs * 2,
    ).catch((error: unknown) => {
      if (/jetstream not enabled|10039/i.test(describeError(error))) throw new ConnectionError(`${where} answers, but JetStream is not enabled (start nats-server with -js)`, { cause: error });
      throw error;
    });
    const connection = nc as unknown as NatsConnection;
    const schedules = hasSchedules(connection.info?.version);
    return new NatsDriver(connection, jetstream(connection), jsm, new NatsTopology(jsm, options.maxAgeMs, options.replicas, schedules), options.maxAgeMs, schedules);
  },
};
