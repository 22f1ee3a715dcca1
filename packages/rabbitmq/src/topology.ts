import { TopologyError, describeError } from '@brokerkit/core';
import type { Channel, ChannelModel, Options } from 'amqplib';

/**
 * Retry delays are rounded *up* to two significant digits (1234 ms → 1300 ms): every delay of
 * one bucket shares a retry queue with one message TTL, so nothing waits behind a longer delay
 * (no head-of-line blocking), the number of queues stays small, and no retry comes early.
 */
export function retryBucketMs(delayMs: number): number {
  if (delayMs <= 10) return Math.max(1, Math.ceil(delayMs));
  const magnitude = 10 ** (Math.floor(Math.log10(delayMs)) - 1);
  return Math.ceil(delayMs / magnitude) * magnitude;
}

export const retryQueueName = (queue: string, bucketMs: number): string => `${queue}.retry.${bucketMs}ms`;

/** A delayed send's bucket: rounded up to three significant digits (1 234 567 ms → 1 240 000), so never early and at most 1 % late. */
export function delayBucketMs(delayMs: number): number {
  if (delayMs <= 100) return Math.max(1, Math.ceil(delayMs));
  const magnitude = 10 ** (Math.floor(Math.log10(delayMs)) - 2);
  return Math.ceil(delayMs / magnitude) * magnitude;
}

/** The fanout exchange and queue (same name) a delayed send to `topic` waits in. */
export const delayQueueName = (topic: string, bucketMs: number): string => `${topic}.delay.${bucketMs}ms`;

/**
 * Holds messages for `bucketMs`, then dead-letters them into the topic's exchange with their
 * own routing key (the message key: partitions route by it): a quorum queue with *at-least-once*
 * dead-lettering, deleted when unused.
 *
 * Why not a classic queue: a classic queue dead-letters at most once. After a broker restart it
 * recovered and dead-lettered its expired messages while the quorum queue they were bound for
 * still had no leader, and RabbitMQ dropped them ("leader cast - leader not known. Command is
 * dropped", in the CI run of d43ccab). At-least-once dead-lettering keeps a message in its
 * queue until the target queue has confirmed it (RabbitMQ 3.10+; it needs `reject-publish`).
 */
export function delayQueueArguments(topic: string, bucketMs: number): Options.AssertQueue {
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-message-ttl': bucketMs,
      'x-dead-letter-exchange': topic,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-expires': bucketMs + 600_000,
    },
  };
}

/**
 * Work queues are durable quorum queues (replicated, with a delivery counter) and carry no
 * other arguments, so every declaration of one queue agrees whatever the handler options.
 */
export const WORK_QUEUE: Options.AssertQueue = { durable: true, arguments: { 'x-queue-type': 'quorum' } };

/**
 * Holds messages for `bucketMs`, then dead-letters them back to the work queue; deleted when unused.
 *
 * A classic queue, unlike delay queues: retry delays are often shorter than 100 ms, and a new
 * quorum queue with at-least-once dead-lettering held such messages for minutes (the `poison`
 * fault scenario in the CI run of 6712106: 2 of 21 came back 123 s late), so retries keep the
 * classic queue's at-most-once dead-lettering and its restart risk (see `delayQueueArguments`).
 */
export function retryQueueArguments(queue: string, bucketMs: number): Options.AssertQueue {
  return {
    durable: true,
    arguments: { 'x-message-ttl': bucketMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': queue, 'x-expires': bucketMs + 600_000 },
  };
}

/**
 * Declares queues that expire when unused (retry and delay queues, `x-expires`). Publishing is
 * not use to RabbitMQ, only consuming or declaring is: so each is declared again at most a
 * minute after its last declaration while messages go to it. Declared once per process, such
 * a queue was deleted ten minutes after its first message, with the messages it held.
 */
export class ExpiringQueues {
  private static readonly REDECLARE_AFTER_MS = 60_000;
  /** When each queue was last declared (ms). */
  private readonly declaredAt = new Map<string, number>();

  constructor(private readonly connection: () => ChannelModel) {}

  async ensure(name: string, what: string, action: (channel: Channel) => Promise<unknown>): Promise<void> {
    if (Date.now() - (this.declaredAt.get(name) ?? -Infinity) <= ExpiringQueues.REDECLARE_AFTER_MS) return;
    await declare(this.connection(), what, action);
    this.declaredAt.set(name, Date.now());
  }
}

/**
 * Declare on a throwaway channel: a mismatch with what exists closes only that channel, and
 * becomes a TopologyError saying what differs.
 */
export async function declare(connection: ChannelModel, what: string, action: (channel: Channel) => Promise<unknown>): Promise<void> {
  try {
    await onThrowawayChannel(connection, action);
  } catch (error) {
    const text = describeError(error);
    const hint = /PRECONDITION_FAILED/.test(text) ? ' (it exists with other arguments: delete it, or use the same options — maxAttempts and deadLetter are queue arguments)' : '';
    throw new TopologyError(`declaring ${what} failed: ${text}${hint}`, { cause: error });
  }
}

/** Run `action` on a channel of its own, closed after: a broker error closes only that channel. */
export async function onThrowawayChannel<T>(connection: ChannelModel, action: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = await connection.createChannel();
  channel.on('error', () => undefined);
  try {
    return await action(channel);
  } finally {
    await channel.close().catch(() => undefined);
  }
}
