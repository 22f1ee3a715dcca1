import { waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const INITIAL_MS = 300;
const MULTIPLIER = 2;
const FAILURES = 3;
/** Timers may fire a few ms early relative to our clock reading. */
const EARLY_TOLERANCE_MS = 25;

export const backoffHonoured: Check = {
  id: 'backoff',
  title: `time between attempts follows the backoff (${INITIAL_MS} ms × ${MULTIPLIER}^n, no jitter)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('backoff');
    const times: number[] = [];
    await broker.consumer(
      queue,
      async () => {
        times.push(performance.now());
        if (times.length <= FAILURES) throw new Error('planned failure');
      },
      { retry: { maxAttempts: FAILURES + 1, backoff: { initialMs: INITIAL_MS, multiplier: MULTIPLIER, maxMs: 60_000, jitter: 0 } } },
    );
    await broker.producer().send(queue, { body: { task: 'slow down' } });
    const expectedGaps = Array.from({ length: FAILURES }, (_, i) => INITIAL_MS * MULTIPLIER ** i);
    const total = expectedGaps.reduce((a, b) => a + b, 0);
    await waitUntil(() => times.length > FAILURES, context.deadline(total + FAILURES * context.timing.backoffLateToleranceMs + 15_000));
    const gaps = times.slice(1).map((t, i) => Math.round(t - (times[i] as number)));
    const tooEarly = gaps.filter((gap, i) => gap < (expectedGaps[i] as number) - EARLY_TOLERANCE_MS);
    const tooLate = gaps.filter((gap, i) => gap > (expectedGaps[i] as number) + context.timing.backoffLateToleranceMs);
    return verdict({ expectedGapsMs: expectedGaps.join(','), measuredGapsMs: gaps.join(','), lateToleranceMs: context.timing.backoffLateToleranceMs }, [
      gaps.length < FAILURES && `only ${times.length} of ${FAILURES + 1} attempts arrived`,
      tooEarly.length > 0 && `retried earlier than the backoff: ${tooEarly.join(',')} ms`,
      tooLate.length > 0 && `retried later than backoff + tolerance: ${tooLate.join(',')} ms`,
    ]);
  },
};
