import { AckPolicy, DeliverPolicy, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager } from '@nats-io/jetstream';
import { errors, nanos } from '@nats-io/transport-node';
import { TopologyError, describeError } from '@brokerkit/core';
import { OncePerKey } from '@brokerkit/core/driver';
import { consumerOf, scheduleSubjectsOf, streamOf, subjectOf } from './names.js';

const CONSUMER_NOT_FOUND = 10014;
const STREAM_NOT_FOUND = 10059;
/** Tries of a JetStream API request that timed out or found no responder (each waits the client's API timeout). */
const API_TRIES = 3;

/**
 * A JetStream API request, again when it timed out or found no responder: in a cluster, while a
 * stream or the meta group elects a leader (a server died, or came back and catches up), requests
 * go unanswered for a few seconds. Creating and reading are idempotent, so asking again is safe.
 */
async function api<T>(call: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried += 1) {
    try {
      return await call();
    } catch (error) {
      const transient = error instanceof errors.TimeoutError || error instanceof errors.NoRespondersError;
      if (!transient || tried >= API_TRIES) throw error;
    }
  }
}

/** What a consumer is made with; its ack wait and limits follow the subscriber attached last. */
export interface ConsumerSettings {
  ackWaitMs: number;
  /** Queues and dead-letter queues keep what was sent before any consumer; a subscription starts at the end. */
  from: 'all' | 'new';
}

/**
 * Streams and consumers, created when first used. A topic is a stream of its own (subject =
 * the topic's name, file storage, kept `maxAgeMs`); a subscription or queue is a durable pull
 * consumer on it, filtered to the topic's subject.
 */
export class NatsTopology {
  private readonly streams = new OncePerKey<void>();

  constructor(
    private readonly jsm: JetStreamManager,
    private readonly maxAgeMs: number,
    private readonly replicas: number,
    /** The server schedules messages (2.12+): streams take the topic's schedule subjects. */
    private readonly schedules: boolean,
  ) {}

  hasStream(topic: string): boolean {
    return this.streams.done(topic);
  }

  ensureStream(topic: string): Promise<void> {
    return this.streams.get(topic, () => this.createStream(topic));
  }

  /** Create the durable consumer, or bring an existing one's ack wait to what is asked (`asFound`: leave it as it is). */
  async ensureConsumer(topic: string, subscription: string, settings: ConsumerSettings, asFound = false): Promise<void> {
    await this.ensureStream(topic);
    const stream = streamOf(topic);
    const name = consumerOf(subscription);
    const existing = await api(() => this.jsm.consumers.info(stream, name)).catch((error: unknown) => {
      if (error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND) return undefined;
      throw new TopologyError(`reading NATS consumer ${name} of stream ${stream} failed: ${describeError(error)}`, { cause: error });
    });
    const ackWait = nanos(settings.ackWaitMs);
    try {
      if (!existing) await api(() => this.jsm.consumers.add(stream, { ...consumerConfig(topic, settings), durable_name: name }));
      else if (!asFound && existing.config.ack_wait !== ackWait) await api(() => this.jsm.consumers.update(stream, name, { ack_wait: ackWait }));
    } catch (error) {
      throw new TopologyError(`declaring NATS consumer ${name} on stream ${stream} failed: ${describeError(error)}`, { cause: error });
    }
  }

  /** An ephemeral consumer from the end of the stream, removed by the server a minute after its last pull (and on close). */
  async ephemeralConsumer(topic: string, ackWaitMs: number): Promise<string> {
    await this.ensureStream(topic);
    try {
      const info = await api(() => this.jsm.consumers.add(streamOf(topic), { ...consumerConfig(topic, { ackWaitMs, from: 'new' }), inactive_threshold: nanos(60_000) }));
      return info.name;
    } catch (error) {
      throw new TopologyError(`creating an ephemeral NATS consumer on stream ${streamOf(topic)} failed: ${describeError(error)}`, { cause: error });
    }
  }

  async deleteConsumer(topic: string, name: string): Promise<void> {
    await this.jsm.consumers.delete(streamOf(topic), name).catch(() => undefined);
  }

  /** The consumer's messages not yet delivered, and delivered but not acknowledged. */
  async backlog(topic: string, subscription: string): Promise<number> {
    try {
      const info = await this.jsm.consumers.info(streamOf(topic), consumerOf(subscription));
      return info.num_pending + info.num_ack_pending;
    } catch (error) {
      if (error instanceof JetStreamApiError && (error.code === CONSUMER_NOT_FOUND || error.code === STREAM_NOT_FOUND)) {
        throw new TopologyError(`no NATS consumer ${consumerOf(subscription)} on stream ${streamOf(topic)} (declare it with ensureSubscription or ensureQueue)`, { cause: error });
      }
      throw error;
    }
  }

  private async createStream(topic: string): Promise<void> {
    const name = streamOf(topic);
    const subject = subjectOf(topic);
    try {
      await api(() => this.jsm.streams.add({
        name,
        subjects: this.schedules ? [subject, scheduleSubjectsOf(topic)] : [subject],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_age: nanos(this.maxAgeMs),
        num_replicas: this.replicas,
        ...(this.schedules ? { allow_msg_schedules: true } : {}),
      }));
      return;
    } catch (error) {
      // A stream of that name exists with other settings (made by hand, or by another version): use it if it takes the subject.
      const found = await api(() => this.jsm.streams.info(name)).catch(() => undefined);
      if (found?.config.subjects?.includes(subject)) {
        if (!this.schedules || (found.config.allow_msg_schedules && found.config.subjects.includes(scheduleSubjectsOf(topic)))) return;
        // Made without schedules (by hand, or before): add them, keeping the rest as it is.
        try {
          await this.jsm.streams.update(name, { ...found.config, subjects: [...found.config.subjects, scheduleSubjectsOf(topic)], allow_msg_schedules: true });
          return;
        } catch (cause) {
          throw new TopologyError(`NATS stream ${name} takes no message schedules and could not be given them (delayed sends need them): ${describeError(cause)}`, { cause });
        }
      }
      throw new TopologyError(`creating NATS stream ${name} for subject ${subject} failed: ${describeError(error)}`, { cause: error });
    }
  }
}

function consumerConfig(topic: string, settings: ConsumerSettings): Partial<ConsumerConfig> {
  return {
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(settings.ackWaitMs),
    deliver_policy: settings.from === 'all' ? DeliverPolicy.All : DeliverPolicy.New,
    filter_subject: subjectOf(topic),
    // brokerkit counts attempts and dead-letters itself: the server never gives a message up.
    max_deliver: -1,
    max_ack_pending: 10_000,
  };
}
