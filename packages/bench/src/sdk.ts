import { connect, type Broker, type Subscriber } from '@brokerkit/core';
import type { BenchBody, BenchTarget } from './target.js';

/** The workload through brokerkit: the same code for every backend, chosen by URL. */
export async function sdkTarget(url: string): Promise<BenchTarget> {
  const broker: Broker = await connect(url);
  const producer = broker.producer();
  return {
    setup: (queue) => broker.ensureQueue(queue),
    send: async (queue, body) => {
      await producer.send(queue, { body });
    },
    sendBatch: async (queue, bodies) => {
      await producer.sendBatch(queue, bodies.map((body) => ({ body })));
    },
    consume: async (queue, concurrency, handler) => {
      const consumer: Subscriber = await broker.consumer<BenchBody>(queue, (message) => handler(message.body), { concurrency });
      return () => consumer.close();
    },
    close: () => broker.close(),
  };
}
