import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const FAILURES = 2;

export const retryAfterError: Check = {
  id: 'retry-after-error',
  title: `a handler error redelivers the message with attempt growing (fails ${FAILURES}×, then succeeds)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('retry');
    const attempts: number[] = [];
    let succeeded = 0;
    await broker.consumer(
      queue,
      async (message) => {
        attempts.push(message.attempt);
        if (attempts.length <= FAILURES) throw new Error(`planned failure ${attempts.length}`);
        succeeded += 1;
      },
      { retry: { maxAttempts: 5, backoff: { initialMs: 50, multiplier: 1, jitter: 0 } } },
    );
    await broker.producer().send(queue, { body: { task: 'flaky' } });
    await waitUntil(() => succeeded > 0, context.deadline(20_000));
    const expected = Array.from({ length: FAILURES + 1 }, (_, i) => i + 1);
    const exact = context.capabilities.attemptCount === 'exact';
    const growing = attempts.every((a, i) => i === 0 || a > (attempts[i - 1] as number));
    return verdict({ handlerCalls: attempts.length, attemptsSeen: attempts.join(','), succeeded }, [
      succeeded === 0 && `never succeeded after ${attempts.length} calls`,
      attempts[0] !== 1 && `first delivery reported attempt ${attempts[0]}`,
      exact && attempts.join(',') !== expected.join(',') && `attempts ${attempts.join(',')} ≠ ${expected.join(',')}`,
      !exact && !growing && `attempt did not grow: ${attempts.join(',')}`,
    ]);
  },
};
