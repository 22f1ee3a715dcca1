import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const FAILURES = 2;

export const retryAfterError: Check = {
  id: 'retry-after-error',
  title: `a handler error redelivers the message with attempt growing and its id kept (fails ${FAILURES}×, then succeeds)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('retry');
    const attempts: number[] = [];
    const ids: string[] = [];
    let succeeded = 0;
    await broker.consumer(
      queue,
      async (message) => {
        attempts.push(message.attempt);
        ids.push(message.id);
        if (attempts.length <= FAILURES) throw new Error(`planned failure ${attempts.length}`);
        succeeded += 1;
      },
      { retry: { maxAttempts: 5, backoff: { initialMs: 50, multiplier: 1, jitter: 0 } } },
    );
    // Sent without an id: the one the receipt names (generated, or the broker's) must stay.
    const receipt = await broker.producer().send(queue, { body: { task: 'flaky' } });
    await waitUntil(() => succeeded > 0, context.deadline(20_000));
    const expected = Array.from({ length: FAILURES + 1 }, (_, i) => i + 1);
    const exact = context.capabilities.attemptCount === 'exact';
    const growing = attempts.every((a, i) => i === 0 || a > (attempts[i - 1] as number));
    const otherIds = ids.filter((id) => id !== receipt.id);
    return verdict({ handlerCalls: attempts.length, attemptsSeen: attempts.join(','), succeeded }, [
      otherIds.length > 0 && `the receipt named ${receipt.id}, deliveries came as ${[...new Set(otherIds)].join(', ')}`,
      succeeded === 0 && `never succeeded after ${attempts.length} calls`,
      attempts[0] !== 1 && `first delivery reported attempt ${attempts[0]}`,
      exact && attempts.join(',') !== expected.join(',') && `attempts ${attempts.join(',')} ≠ ${expected.join(',')}`,
      !exact && !growing && `attempt did not grow: ${attempts.join(',')}`,
    ]);
  },
};
