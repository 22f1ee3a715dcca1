import { Tally, pause, verdict, waitUntil } from '../measure.js';
import type { Check } from '../types.js';

const KEYS = 8;
const PER_KEY = 25;
const CONCURRENCY = 16;

/** About one message in ten fails its first attempt: odd ones throw, even ones call `retry()`. */
function failsFirstAttempt(key: number, seq: number): 'throw' | 'retry' | undefined {
  if ((key * 7 + seq * 3) % 10 !== 3) return undefined;
  return seq % 2 === 1 ? 'throw' : 'retry';
}

/**
 * Same-key order while some attempts fail. A message waiting for its retry must hold its key:
 * an attempt of a later message of the key that starts before every earlier one was handled
 * is a violation. Two instances where the backend claims order across instances.
 */
export const keyOrderingUnderRetries: Check = {
  id: 'key-ordering-under-retries',
  title: `per-key order with ~10% of first attempts failing (thrown and retry()), concurrency ${CONCURRENCY}: ${KEYS} keys × ${PER_KEY}`,
  async run(context) {
    const scope = context.capabilities.ordering;
    if (scope === 'none') return { status: 'unsupported', reason: 'backend reports no per-key ordering', figures: {} };
    const instances = scope === 'per-key' ? 2 : 1;
    const queue = context.unique('ordering-retries');
    /** Per key: how many of its messages were handled, in order (seq 0 … done-1). */
    const handledUpTo = new Map<string, Set<number>>();
    const tally = new Tally();
    let violations = 0;
    let failedAttempts = 0;
    const failedOnce = new Set<string>();
    for (let index = 0; index < instances; index += 1) {
      const broker = await context.open();
      await broker.consumer<{ k: number; seq: number }>(
        queue,
        async (message, control) => {
          const { k, seq } = message.body;
          const key = message.key as string;
          const handled = handledUpTo.get(key) ?? new Set<number>();
          handledUpTo.set(key, handled);
          for (let earlier = 0; earlier < seq; earlier += 1) {
            if (!handled.has(earlier)) {
              violations += 1;
              break;
            }
          }
          await pause(Math.floor(Math.random() * 3));
          // By id, not by `attempt`: a backend may count attempts approximately.
          const failure = failedOnce.has(message.id) ? undefined : failsFirstAttempt(k, seq);
          if (failure !== undefined) {
            failedOnce.add(message.id);
            failedAttempts += 1;
          }
          if (failure === 'throw') throw new Error(`first attempt of ${message.id} fails`);
          if (failure === 'retry') {
            control.retry(50);
            return;
          }
          handled.add(seq);
          tally.record(message.id);
        },
        { concurrency: CONCURRENCY, ordering: 'key', retry: { maxAttempts: 5, backoff: { initialMs: 50, maxMs: 200, jitter: 0 } }, onError: () => undefined },
      );
    }
    const messages = [];
    for (let seq = 0; seq < PER_KEY; seq += 1) {
      for (let k = 0; k < KEYS; k += 1) messages.push({ id: `${queue}-k${k}-${seq}`, key: `key-${k}`, body: { k, seq } });
    }
    const sender = await context.open();
    await sender.producer().sendBatch(queue, messages);
    const ids = messages.map((m) => m.id);
    await waitUntil(() => tally.hasAll(ids), context.deadline(60_000));
    const missing = tally.missingFrom(ids).length;
    const expectedFailures = messages.filter((m) => failsFirstAttempt(m.body.k, m.body.seq) !== undefined).length;
    return verdict(
      { keys: KEYS, perKey: PER_KEY, instances, concurrency: CONCURRENCY, failedAttempts, handled: tally.distinct, missing, duplicates: tally.duplicates, violations },
      [
        missing > 0 && `${missing} messages never handled`,
        violations > 0 && `${violations} attempts started before an earlier message of their key was handled`,
        failedAttempts < expectedFailures && `only ${failedAttempts} of ${expectedFailures} planned first-attempt failures happened`,
      ],
    );
  },
};
