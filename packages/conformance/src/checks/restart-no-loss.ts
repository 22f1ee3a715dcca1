import type { Broker, Subscriber } from '@brokerkit/core';
import { Tally, pause, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MESSAGES = 400;
const RESTARTS = 4;

export const restartNoLoss: Check = {
  id: 'restart-no-loss',
  title: `nothing lost while the consumer restarts ${RESTARTS}× (graceful and crash) as publishing continues`,
  async run(context) {
    const queue = context.unique('restart');
    const tally = new Tally();
    const { ackTimeoutMs } = context.timing;
    const handler = async (message: { id: string }): Promise<void> => {
      await pause(1);
      tally.record(message.id);
    };
    const startInstance = async (): Promise<{ broker: Broker; consumer: Subscriber }> => {
      const broker = await context.open();
      const consumer = await broker.consumer(queue, handler, { concurrency: 4, ackTimeoutMs });
      return { broker, consumer };
    };
    let current = await startInstance();
    const sender = await context.open();
    const producer = sender.producer();
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${queue}-${i}`);
    const publishing = (async () => {
      for (let i = 0; i < ids.length; i += 10) {
        await producer.sendBatch(queue, ids.slice(i, i + 10).map((id) => ({ id, body: { id } })));
        await pause(5);
      }
    })();
    let crashes = 0;
    for (let restart = 0; restart < RESTARTS; restart += 1) {
      await waitUntil(() => tally.distinct >= ((restart + 1) * MESSAGES) / (RESTARTS + 2), context.deadline(20_000));
      // Alternate a graceful close with a crash (connection dropped, nothing settled).
      if (restart % 2 === 0) {
        await current.consumer.close();
        await current.broker.close();
      } else {
        await current.broker.destroy();
        crashes += 1;
      }
      current = await startInstance();
    }
    await publishing;
    await waitUntil(() => tally.hasAll(ids), context.deadline(ackTimeoutMs + 30_000));
    const missing = tally.missingFrom(ids).length;
    return verdict({ sent: MESSAGES, restarts: RESTARTS, crashes, received: tally.distinct, missing, duplicates: tally.duplicates }, [
      missing > 0 && `${missing} of ${MESSAGES} messages lost across restarts`,
    ]);
  },
};
