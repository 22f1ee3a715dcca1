import { SendError, describeError } from '@brokerkit/core';
import type { ConfirmChannel, Options } from 'amqplib';
import type { RabbitConnection } from './connection.js';
import { declare } from './topology.js';

/** How long a send waits for a dropped connection to come back before failing. */
const RECONNECT_WAIT_MS = 10_000;

export interface Outgoing {
  exchange: string;
  routingKey: string;
  content: Buffer;
  /** Persistent and mandatory: a message is durable, and refused when no queue would get it. */
  options: Options.Publish & { messageId: string; persistent: true; mandatory: true };
}

/** A nacked publish, or one the closing channel would not take: sending again may succeed. */
function refused(id: string, exchange: string, error: unknown): SendError {
  return new SendError(`RabbitMQ refused message ${id} to ${exchange}: ${describeError(error)}`, { cause: error, retriable: true });
}

/** Until the channel takes more writes, or closes (amqplib then fails its unconfirmed publishes). */
function writable(channel: ConfirmChannel): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      channel.off('drain', done);
      channel.off('close', done);
      resolve();
    };
    channel.on('drain', done);
    channel.on('close', done);
  });
}

/**
 * Publishes on one confirm channel: persistent, mandatory, flow-controlled (`drain`), and
 * resolved only on the broker's confirm. A broker nack or a returned (unroutable) message
 * rejects that send with a SendError — never a silent drop.
 */
export class Publisher {
  private channel: ConfirmChannel | undefined;
  private opening: Promise<ConfirmChannel> | undefined;
  private readonly returned = new Set<string>();
  private readonly exchanges = new Set<string>();

  constructor(
    private readonly connection: RabbitConnection,
    private readonly confirmTimeoutMs: number,
  ) {
    connection.onReconnect(async () => {
      this.channel = undefined;
      this.opening = undefined;
    });
  }

  /** Declare a durable topic exchange once per process. */
  async ensureExchange(name: string): Promise<void> {
    if (this.exchanges.has(name)) return;
    await declare(await this.connection.whenUp(RECONNECT_WAIT_MS), `exchange ${name}`, (channel) => channel.assertExchange(name, 'topic', { durable: true }));
    this.exchanges.add(name);
  }

  async publish(messages: Outgoing[]): Promise<void> {
    const channel = await this.ready();
    const confirms: Promise<void>[] = [];
    /** Rejects the publishes of this batch still unanswered: one timer per batch, not per message. */
    const unanswered = new Set<(error: Error) => void>();
    // Bounded: a publish the broker neither confirms nor nacks (a quorum queue left without a
    // leader can leave it so) fails, and its channel is not used again.
    const timer = setTimeout(() => {
      this.retire(channel);
      const error = new SendError(`RabbitMQ did not confirm ${unanswered.size} message(s) to ${messages[0]?.exchange} within ${this.confirmTimeoutMs} ms`, { retriable: true });
      for (const reject of unanswered) reject(error);
    }, this.confirmTimeoutMs);
    for (const message of messages) {
      let written = true;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const id = message.options.messageId;
          unanswered.add(reject);
          try {
            written = channel.publish(message.exchange, message.routingKey, message.content, message.options, (error: unknown) => {
              unanswered.delete(reject);
              if (error) {
                this.retire(channel);
                reject(refused(id, message.exchange, error));
              } else if (this.returned.delete(id)) reject(new SendError(`message ${id} to ${message.exchange} is unroutable: no queue is bound to it (start a subscriber or declare the queue first)`));
              else resolve();
            });
          } catch (error) {
            // The channel closed under this batch.
            unanswered.delete(reject);
            reject(refused(id, message.exchange, error));
          }
        }),
      );
      if (!written) await writable(channel);
    }
    const results = await Promise.allSettled(confirms);
    clearTimeout(timer);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * A nacked publish retires its channel: the next send opens a new one. RabbitMQ 3.10 nacks
   * every publish to a quorum queue on a channel opened while the queue's leader had just died
   * (before the election): the channel keeps the dead leader, for as long as it lives. Seen here:
   * a channel opened at the kill nacked 400 publishes a second for 19 s, one opened 200 ms later
   * took them all; the adapter reconnecting to another node at once hit it every time.
   */
  private retire(channel: ConfirmChannel): void {
    if (this.channel !== channel) return;
    this.channel = undefined;
    // Its other publishes are still confirmed or nacked; then it goes.
    void channel
      .waitForConfirms()
      .catch(() => undefined)
      .finally(() => void channel.close().catch(() => undefined));
  }

  async close(): Promise<void> {
    await this.channel?.close().catch(() => undefined);
    this.channel = undefined;
  }

  private async ready(): Promise<ConfirmChannel> {
    if (this.channel) return this.channel;
    this.opening ??= this.open();
    try {
      return await this.opening;
    } finally {
      this.opening = undefined;
    }
  }

  private async open(): Promise<ConfirmChannel> {
    const model = await this.connection.whenUp(RECONNECT_WAIT_MS);
    const channel = await model.createConfirmChannel();
    channel.on('return', (message: { properties: { messageId?: string } }) => {
      if (message.properties.messageId) this.returned.add(message.properties.messageId);
    });
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    this.channel = channel;
    return channel;
  }
}
