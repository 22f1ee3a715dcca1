import { randomUUID } from 'node:crypto';
import amqp, { type ConfirmChannel, type Options } from 'amqplib';
import { METADATA, decode, encode, type BenchTarget } from '../target.js';

/**
 * amqplib alone, with brokerkit's settings: a durable topic exchange and a quorum queue bound
 * to it, persistent mandatory publishes on a confirm channel (each send awaits its confirm),
 * prefetch = concurrency, ack after each handler.
 */
export async function rabbitmqRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  const bare = { persistent: true, mandatory: true, contentType: METADATA.contentType };
  // With `metadata`, what brokerkit's adapter writes too: a message id and the AMQP timestamp
  // (brokerkit's ids are UUIDv7, which hold the publish time's millisecond; a v4 costs the same).
  // A literal, not `{ ...bare, … }`: a spread copy made amqplib's encoding of it 3 µs slower per message.
  const optionsOf = metadata
    ? (): Options.Publish => ({ persistent: true, mandatory: true, contentType: METADATA.contentType, messageId: randomUUID(), timestamp: Math.floor(Date.now() / 1_000) })
    : (): Options.Publish => bare;
  const connection = await amqp.connect(url, { noDelay: true });
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  const publish = (queue: string, data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      channel.publish(queue, '', data, optionsOf(), (error) => (error ? reject(error as Error) : resolve()));
    });
  return {
    setup: async (queue) => {
      await channel.assertExchange(queue, 'topic', { durable: true });
      await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(queue, queue, '#');
    },
    send: (queue, body) => publish(queue, encode(body)),
    sendBatch: async (queue, bodies) => {
      await Promise.all(bodies.map((body) => publish(queue, encode(body))));
    },
    cleanup: async (_prefix, names) => {
      // AMQP cannot list queues: delete the run's names and brokerkit's dead-letter companions.
      const admin = await connection.createChannel();
      admin.on('error', () => undefined);
      for (const name of names.flatMap((n) => [n, `${n}.dlq`])) {
        await admin.deleteQueue(name);
        await admin.deleteExchange(name);
      }
      await admin.close();
    },
    consume: async (queue, concurrency, handler) => {
      const consumerChannel = await connection.createChannel();
      await consumerChannel.prefetch(concurrency);
      await consumerChannel.consume(queue, (message) => {
        if (!message) return;
        handler(decode(message.content));
        consumerChannel.ack(message);
      });
      return async () => {
        await consumerChannel.close().catch(() => undefined);
      };
    },
    close: async () => {
      await channel.close().catch(() => undefined);
      await connection.close();
    },
  };
}
