import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Driver, EncodedMessage } from '../contract/driver.js';
import type { OutgoingMessage, SendReceipt } from '../contract/message.js';
import { rejectUnknownKeys } from '../config/options.js';
import { BrokerkitError, ClosedError, ConfigError, SendError, describeError } from '../errors/index.js';
import { resolveCloudEvent, type CloudEventOptions } from './cloud-events.js';
import type { Codec } from './codec.js';
import { encodeOutgoing, splitIntoBatches } from './encode.js';
import { schemaOf, topicName, validateBody, type BodyIn, type TopicDefinition, type TopicRef } from './schema.js';
import { SendTelemetry } from './telemetry.js';

export interface ProducerOptions {
  /** Send every message as a CloudEvent (binary mode) with these defaults; `true`: each message names its own type and source. */
  cloudEvents?: CloudEventOptions | true;
}

export function resolveProducerOptions(options: ProducerOptions | undefined): { cloudEvents: CloudEventOptions | undefined } {
  if (options === undefined) return { cloudEvents: undefined };
  if (options === null || typeof options !== 'object') throw new ConfigError('producer options', 'expected an object, e.g. { cloudEvents: { source: "/orders" } }');
  rejectUnknownKeys('producer options', options, ['cloudEvents']);
  const { cloudEvents } = options;
  if (cloudEvents === undefined || cloudEvents === true) return { cloudEvents: cloudEvents === true ? {} : undefined };
  if (cloudEvents === null || typeof cloudEvents !== 'object') throw new ConfigError('producer options.cloudEvents', 'expected true or { type?, source?, subject?, extensions? }');
  rejectUnknownKeys('producer options.cloudEvents', cloudEvents, ['type', 'source', 'subject', 'time', 'dataschema', 'extensions']);
  return { cloudEvents };
}

/** Sends messages to topics and queues; every send resolves once the broker durably accepted it. */
export class Producer implements AsyncDisposable {
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly driver: Driver,
    private readonly codec: Codec,
    private readonly options: { cloudEvents: CloudEventOptions | undefined } = { cloudEvents: undefined },
  ) {}

  /** Send one message; resolves with its id once the broker has it. A topic with a schema validates the body first. */
  send<TSchema extends StandardSchemaV1>(topic: TopicDefinition<TSchema>, message: OutgoingMessage<BodyIn<TSchema>>): Promise<SendReceipt>;
  send<TBody>(topic: string, message: OutgoingMessage<TBody>): Promise<SendReceipt>;
  async send(topic: TopicRef, message: OutgoingMessage): Promise<SendReceipt> {
    const [receipt] = await this.sendBatch(topic as string, [message]);
    return receipt as SendReceipt;
  }

  /**
   * Send many messages in order, in as few broker calls as the backend's batch limits allow.
   * Every message is checked (and validated, for a topic with a schema) and encoded before
   * the first byte leaves, so a bad one sends nothing.
   */
  sendBatch<TSchema extends StandardSchemaV1>(topic: TopicDefinition<TSchema>, messages: OutgoingMessage<BodyIn<TSchema>>[]): Promise<SendReceipt[]>;
  sendBatch<TBody>(topic: string, messages: OutgoingMessage<TBody>[]): Promise<SendReceipt[]>;
  async sendBatch(topic: TopicRef, messages: OutgoingMessage[]): Promise<SendReceipt[]> {
    if (this.closed) throw new ClosedError('producer');
    const name = topicName(topic);
    if (!Array.isArray(messages)) throw new ConfigError('messages', 'expected an array of messages');
    const schema = schemaOf(topic);
    if (schema) {
      for (const [index, message] of messages.entries()) {
        // Not a message at all: encodeOutgoing says so below, with a ConfigError.
        if (message === null || typeof message !== 'object' || !('body' in message)) continue;
        await validateBody(schema, message.body, name, messages.length === 1 ? 'the body' : `the body of message ${index}`);
      }
    }
    const telemetry = new SendTelemetry(this.driver.backend, name, messages.length);
    const encoded: EncodedMessage[] = [];
    const sizes: number[] = [];
    const work = (async () => {
      for (const [index, message] of messages.entries()) {
        const own = (message as Partial<OutgoingMessage> | null | undefined)?.cloudEvent;
        const cloudEvent = this.options.cloudEvents !== undefined || own !== undefined ? resolveCloudEvent(this.options.cloudEvents, own) : undefined;
        const extras = { headers: telemetry.headersFor(index), cloudEvent };
        const { message: ready, sizeBytes } = encodeOutgoing(message, this.codec, this.driver, extras);
        encoded.push(ready);
        sizes.push(sizeBytes);
      }
      return this.sendInBatches(name, encoded, sizes);
    })();
    this.pending.add(work);
    try {
      const receipts = await work;
      // The receipts name every message, also those the broker named.
      telemetry.end(receipts);
      return receipts;
    } catch (error) {
      telemetry.end(encoded, error);
      throw error;
    } finally {
      this.pending.delete(work);
    }
  }

  private async sendInBatches(topic: string, encoded: EncodedMessage[], sizes: number[]): Promise<SendReceipt[]> {
    const receipts: SendReceipt[] = [];
    for (const batch of splitIntoBatches(encoded, this.driver.limits, sizes)) {
      try {
        receipts.push(...(await this.driver.send(topic, batch)));
      } catch (error) {
        if (error instanceof BrokerkitError) throw error;
        throw new SendError(`sending to ${topic} failed after ${receipts.length} of ${encoded.length} messages were accepted: ${describeError(error)}`, {
          cause: error,
          retriable: true,
        });
      }
    }
    return receipts;
  }

  /** Refuse new sends and wait for those under way. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
