import type { Backlog } from '@brokerkit/core';
import { Tally, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MESSAGES = 25;

/**
 * `broker.backlog()` asks the broker what a subscription has not settled. Sent to a declared
 * subscription with no consumer, MESSAGES must be reported (an approximate count is given time
 * to settle, not a looser figure); once a consumer handled them all, 0.
 */
export const backlogCount: Check = {
  id: 'backlog',
  title: `${MESSAGES} sent to a subscription without consumers are reported; 0 once they are handled`,
  async run(context) {
    if (context.capabilities.backlog === 'none') {
      const note = context.capabilities.notes.find((each) => /^backlog/.test(each));
      return { status: 'unsupported', reason: note ?? 'backend reports no backlog', figures: {} };
    }
    const broker = await context.open();
    const topic = context.unique('backlog');
    const subscription = `${topic}-sub`;
    await broker.ensureSubscription(topic, subscription);
    const ids = Array.from({ length: MESSAGES }, (_, i) => `${topic}-${i}`);
    await broker.producer().sendBatch(topic, ids.map((id) => ({ id, body: { id } })));
    let last: Backlog | undefined;
    const ask = async (): Promise<number> => {
      last = await broker.backlog(topic, subscription);
      return last.messages;
    };
    const reported = (await waitUntil(async () => (await ask()) === MESSAGES, context.deadline(15_000))) ? MESSAGES : (last?.messages ?? -1);
    const before = last;
    const tally = new Tally();
    await broker.subscriber<{ id: string }>(topic, subscription, (message) => void tally.record(message.id));
    await waitUntil(() => tally.hasAll(ids), context.deadline(20_000));
    const drained = await waitUntil(async () => (await ask()) === 0, context.deadline(15_000));
    return verdict(
      {
        sent: MESSAGES,
        reported,
        oldestAgeMs: before?.oldestAgeMs ?? 'not told',
        approximate: before?.approximate ?? false,
        counts: before?.counts ?? '',
        handled: tally.distinct,
        afterHandling: last?.messages ?? -1,
      },
      [
        reported !== MESSAGES && `${MESSAGES} sent to a subscription without consumers, the backlog said ${reported}`,
        !tally.hasAll(ids) && `${tally.missingFrom(ids).length} messages never reached the subscriber`,
        tally.hasAll(ids) && !drained && `every message was handled, yet the backlog still said ${last?.messages}`,
      ],
    );
  },
};
