import { Tally, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const SUBSCRIPTIONS = 3;
const MESSAGES = 60;

export const fanOut: Check = {
  id: 'fan-out',
  title: `${SUBSCRIPTIONS} subscriptions each receive every message`,
  async run(context) {
    const broker = await context.open();
    const topic = context.unique('fan-out');
    const tallies: Tally[] = [];
    for (let index = 0; index < SUBSCRIPTIONS; index += 1) {
      const tally = new Tally();
      tallies.push(tally);
      await broker.subscriber(topic, `${topic}-sub${index}`, async (message) => tally.record(message.id), { concurrency: 4 });
    }
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${topic}-${i}`);
    await broker.producer().sendBatch(topic, ids.map((id, i) => ({ id, body: { i } })));
    const expected = ids.length * SUBSCRIPTIONS;
    await waitUntil(() => tallies.every((t) => t.hasAll(ids)), context.deadline(20_000));
    const missing = tallies.reduce((sum, t) => sum + t.missingFrom(ids).length, 0);
    const duplicates = tallies.reduce((sum, t) => sum + t.duplicates, 0);
    return verdict({ subscriptions: SUBSCRIPTIONS, sent: MESSAGES, expectedDeliveries: expected, missing, duplicates }, [
      missing > 0 && `${missing} of ${expected} deliveries missing`,
    ]);
  },
};
