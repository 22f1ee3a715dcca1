import { describeError, type HandlerOptions } from '@brokerkit/core';
import { verdict, waitUntil } from '../measure.js';
import type { Check, CheckContext } from '../types.js';

interface Combination {
  label: string;
  options: HandlerOptions;
}

/** Every handler option a consumer chooses that a declaration could wrongly fix, in the combinations the backend supports. */
function combinations(context: CheckContext, dlq: string): Combination[] {
  const orderings: ('none' | 'key')[] = context.capabilities.ordering === 'none' ? ['none'] : ['none', 'key'];
  const found: Combination[] = [];
  for (const ordering of orderings) {
    for (const [deadLetterLabel, deadLetter] of [['default DLQ', undefined], ['no DLQ', false], ['own DLQ', dlq]] as const) {
      const concurrency = ordering === 'key' ? 4 : 1;
      found.push({
        label: `ordering ${ordering}, ${deadLetterLabel}, concurrency ${concurrency}`,
        options: { ordering, concurrency, retry: { maxAttempts: 3 }, ...(deadLetter === undefined ? {} : { deadLetter }) },
      });
    }
  }
  return found;
}

/** Declare (no consumer yet), send, then attach with `options`: the message sent before must arrive. */
async function declareSendAttach(declare: () => Promise<void>, attach: (handler: () => void) => Promise<unknown>, send: () => Promise<unknown>, timeoutMs: number): Promise<string | undefined> {
  try {
    await declare();
    await send();
    let received = 0;
    await attach(() => (received += 1));
    if (!(await waitUntil(() => received > 0, timeoutMs))) return 'the message sent after the declaration never arrived';
    return undefined;
  } catch (error) {
    return describeError(error);
  }
}

/**
 * Declaring a queue or subscription must not fix what only a consumer chooses: after
 * `ensureQueue` / `ensureSubscription` with defaults, a consumer may attach with any ordering,
 * dead-letter queue and concurrency the backend supports, and gets what was sent meanwhile.
 */
export const declareThenAttach: Check = {
  id: 'declare-then-attach',
  title: 'ensureQueue / ensureSubscription first, then consumers attach with every option combination supported',
  async run(context) {
    const broker = await context.open();
    const producer = broker.producer();
    const timeoutMs = context.deadline(20_000);
    const attempts: Promise<[string, string | undefined]>[] = [];
    for (const [index, { label, options }] of combinations(context, context.unique('own-dlq')).entries()) {
      const queue = context.unique(`declared-q${index}`);
      attempts.push(
        declareSendAttach(
          () => broker.ensureQueue(queue),
          (handler) => broker.consumer(queue, handler, options),
          () => producer.send(queue, { key: 'k', body: { index } }),
          timeoutMs,
        ).then((problem) => [`queue, ${label}`, problem]),
      );
      const topic = context.unique(`declared-t${index}`);
      const subscription = `${topic}-sub`;
      attempts.push(
        declareSendAttach(
          () => broker.ensureSubscription(topic, subscription),
          (handler) => broker.subscriber(topic, subscription, handler, options),
          () => producer.send(topic, { key: 'k', body: { index } }),
          timeoutMs,
        ).then((problem) => [`subscription, ${label}`, problem]),
      );
    }
    const outcomes = await Promise.all(attempts);
    const refused = outcomes.filter(([, problem]) => problem !== undefined);
    return verdict(
      { combinations: outcomes.length, attached: outcomes.length - refused.length },
      refused.map(([label, problem]) => `${label}: ${problem}`),
    );
  },
};
