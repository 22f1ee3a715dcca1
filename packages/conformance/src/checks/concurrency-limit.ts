import { ConcurrencyGauge, Tally, pause, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const LIMIT = 4;
const MESSAGES = 60;

export const concurrencyLimit: Check = {
  id: 'concurrency-limit',
  title: `never more than concurrency (${LIMIT}) handlers at once`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('concurrency');
    await broker.ensureQueue(queue);
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${queue}-${i}`);
    // Publish first, so the whole backlog presses on the limit.
    await broker.producer().sendBatch(queue, ids.map((id) => ({ id, body: {} })));
    const gauge = new ConcurrencyGauge();
    const tally = new Tally();
    await broker.consumer(queue, async (message) => gauge.around(async () => {
      await pause(15);
      tally.record(message.id);
    }), { concurrency: LIMIT });
    await waitUntil(() => tally.hasAll(ids), context.deadline(30_000));
    const missing = tally.missingFrom(ids).length;
    return verdict({ limit: LIMIT, maxObserved: gauge.max, received: tally.distinct, missing }, [
      gauge.max > LIMIT && `${gauge.max} handlers ran at once, limit ${LIMIT}`,
      gauge.max < 2 && 'handlers never ran in parallel',
      missing > 0 && `${missing} messages missing`,
    ]);
  },
};
