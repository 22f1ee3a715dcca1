import { ConcurrencyGauge, Tally, keyedMessages, pause, sendAndAwaitAll, verdict } from '../measure.js';
import type { Check } from '../types.js';

const KEYS = 6;
const PER_KEY = 40;
const CONCURRENCY = 8;

export const keyOrdering: Check = {
  id: 'key-ordering',
  title: `per-key order under concurrency ${CONCURRENCY}: ${KEYS} keys × ${PER_KEY} messages, violations counted`,
  async run(context) {
    const scope = context.capabilities.ordering;
    if (scope === 'none') return { status: 'unsupported', reason: 'backend reports no per-key ordering', figures: {} };
    // Where the backend orders keys across instances, prove it with two; otherwise within one.
    const instances = scope === 'per-key' ? 2 : 1;
    const queue = context.unique('ordering');
    const lastSeen = new Map<string, number>();
    const tally = new Tally();
    const gauge = new ConcurrencyGauge();
    let violations = 0;
    for (let index = 0; index < instances; index += 1) {
      const broker = await context.open();
      await broker.consumer<{ seq: number }>(
        queue,
        async (message) =>
          gauge.around(async () => {
            const key = message.key as string;
            if (!tally.has(message.id)) {
              if (message.body.seq <= (lastSeen.get(key) ?? -1)) violations += 1;
              lastSeen.set(key, message.body.seq);
            }
            tally.record(message.id);
            await pause(Math.floor(Math.random() * 3));
          }),
        { concurrency: CONCURRENCY, ordering: 'key' },
      );
    }
    const missing = await sendAndAwaitAll(context, queue, keyedMessages(queue, KEYS, PER_KEY), tally, context.deadline(30_000));
    return verdict(
      { keys: KEYS, perKey: PER_KEY, instances, concurrency: CONCURRENCY, received: tally.distinct, missing, duplicates: tally.duplicates, violations, maxParallel: gauge.max },
      [missing > 0 && `${missing} messages missing`, violations > 0 && `${violations} same-key messages ran out of publish order`, gauge.max < 2 && 'different keys never ran in parallel'],
    );
  },
};
