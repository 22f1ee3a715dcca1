import amqp, { type ConfirmChannel } from 'amqplib';
import { decode, encode, type BenchTarget } from '../target.js';

/**
 * amqplib alone, with brokerkit's settings: a durable topic exchange and a quorum queue bound
 * to it, persistent mandatory publishes on a confirm channel (each send awaits its confirm),
 * prefetch = concurrency, ack after each handler.
 */
export async function rabbitmqRaw(url: string): Promise<BenchTarget> {
  const connection = await amqp.connect(url, { noDelay: true });
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  const publish = (queue: string, data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      channel.publish(queue, '', data, { persistent: true, mandatory: true, contentType: 'application/json' }, (error) => (error ? reject(error as Error) : resolve()));
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
