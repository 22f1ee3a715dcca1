import { Tally, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const INSTANCES = 3;
const MESSAGES = 300;

export const competingConsumers: Check = {
  id: 'competing-consumers',
  title: `${INSTANCES} instances on one queue share it: union complete, duplicates counted`,
  async run(context) {
    const queue = context.unique('competing');
    const union = new Tally();
    const perInstance: number[] = [];
    for (let index = 0; index < INSTANCES; index += 1) {
      const broker = await context.open();
      perInstance.push(0);
      await broker.consumer(
        queue,
        async (message) => {
          union.record(message.id);
          perInstance[index] = (perInstance[index] ?? 0) + 1;
          // A little work, so that one instance cannot drain the queue alone.
          await new Promise((resolve) => setTimeout(resolve, 2));
        },
        { concurrency: 4 },
      );
    }
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${queue}-${i}`);
    const sender = await context.open();
    await sender.producer().sendBatch(queue, ids.map((id, i) => ({ id, body: { i } })));
    await waitUntil(() => union.hasAll(ids), context.deadline(30_000));
    const missing = union.missingFrom(ids).length;
    const busiestShare = Math.max(...perInstance) / Math.max(1, union.total);
    return verdict(
      { instances: INSTANCES, sent: MESSAGES, received: union.distinct, missing, duplicates: union.duplicates, perInstance: perInstance.join('/'), busiestShare: Math.round(busiestShare * 100) / 100 },
      [missing > 0 && `${missing} of ${MESSAGES} messages missing`, perInstance.filter((n) => n > 0).length < 2 && 'only one instance received messages: no competing consumption'],
    );
  },
};
