import type { Driver } from '../contract/driver.js';
import type { OutgoingMessage, SendReceipt } from '../contract/message.js';
import { BrokerkitError, ClosedError, ConfigError, SendError, describeError } from '../errors/index.js';
import type { Codec } from './codec.js';
import { encodeOutgoing, splitIntoBatches } from './encode.js';
import { requireName } from './resolve-options.js';

/** Sends messages to topics and queues; every send resolves once the broker durably accepted it. */
export class Producer implements AsyncDisposable {
  private closed = false;
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly driver: Driver,
    private readonly codec: Codec,
  ) {}

  /** Send one message; resolves with its id once the broker has it. */
  async send<TBody>(topic: string, message: OutgoingMessage<TBody>): Promise<SendReceipt> {
    const [receipt] = await this.sendBatch(topic, [message]);
    return receipt as SendReceipt;
  }

  /**
   * Send many messages in order, in as few broker calls as the backend's batch limits allow.
   * Every message is checked and encoded before the first byte leaves, so a bad one sends nothing.
   */
  async sendBatch<TBody>(topic: string, messages: OutgoingMessage<TBody>[]): Promise<SendReceipt[]> {
    if (this.closed) throw new ClosedError('producer');
    requireName('topic', topic);
    if (!Array.isArray(messages)) throw new ConfigError('messages', 'expected an array of messages');
    const encoded = messages.map((message) => encodeOutgoing(message, this.codec, this.driver.limits, this.driver.backend));
    const work = this.sendInBatches(topic, encoded);
    this.pending.add(work);
    try {
      return await work;
    } finally {
      this.pending.delete(work);
    }
  }

  private async sendInBatches(topic: string, encoded: ReturnType<typeof encodeOutgoing>[]): Promise<SendReceipt[]> {
    const receipts: SendReceipt[] = [];
    for (const batch of splitIntoBatches(encoded, this.driver.limits)) {
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
