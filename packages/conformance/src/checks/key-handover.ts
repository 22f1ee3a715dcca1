import { pause, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const KEYS = 64;
const PER_KEY = 20;
const CONCURRENCY = 4;
const KEYS_AT_ONCE = 4;

/**
 * Two instances share a key-ordered queue; one crashes (its connection dropped, nothing acked)
 * a quarter of the way through. Whatever it held must be handled by the other, and every key's
 * messages still in publish order across the two — the promise of `per-key` ordering. Also
 * measured: how the keys were spread while both lived, and how long the crashed instance's keys
 * waited for the survivor.
 */
export const keyHandover: Check = {
  id: 'key-handover',
  title: `two instances share ${KEYS} keys (ordering 'key'); one crashes mid-stream: its keys move to the other, order violations counted`,
  async run(context) {
    const scope = context.capabilities.ordering;
    if (scope !== 'per-key') return { status: 'unsupported', reason: `the backend orders keys ${scope === 'none' ? 'not at all' : 'within one instance only'}: keys moving to another instance may run out of order`, figures: {} };
    const { ackTimeoutMs } = context.timing;
    const queue = context.unique('handover');
    const lastSeen = new Map<string, number>();
    const seen = new Set<string>();
    const handledBy = [0, 0];
    /** Keys the crashing instance handled, and when the survivor first handled one of them after the crash. */
    const keysOfCrashed = new Set<string>();
    let crashedAt = 0;
    let firstMovedAt = 0;
    let duplicates = 0;
    let violations = 0;
    let overlaps = 0;
    /** The handlers running now, per key, by instance. */
    const runningByKey = new Map<string, Set<{ instance: number }>>();
    const instances = [];
    for (const index of [0, 1]) {
      const broker = await context.open();
      instances.push(broker);
      await broker.consumer<{ seq: number }>(
        queue,
        async (message) => {
          if (crashedAt && index === 0) return new Promise<void>(() => undefined); // a dead process handles nothing
          const key = message.key as string;
          const run = { instance: index };
          const running = runningByKey.get(key) ?? new Set<{ instance: number }>();
          runningByKey.set(key, running);
          // Per-key order across instances means one message of a key at a time, anywhere.
          if (running.size > 0) overlaps += 1;
          running.add(run);
          if (seen.has(message.id)) duplicates += 1;
          else {
            seen.add(message.id);
            if (message.body.seq <= (lastSeen.get(key) ?? -1)) violations += 1;
            lastSeen.set(key, message.body.seq);
            if (!crashedAt) handledBy[index] = (handledBy[index] ?? 0) + 1;
            if (index === 0) keysOfCrashed.add(key);
            else if (crashedAt && !firstMovedAt && keysOfCrashed.has(key)) firstMovedAt = Date.now();
          }
          try {
            await pause(1 + Math.floor(Math.random() * 3));
          } finally {
            running.delete(run);
          }
        },
        { concurrency: CONCURRENCY, ordering: 'key', ackTimeoutMs },
      );
    }
    // Four keys at a time, interleaved: a key's next message is four behind, so both instances
    // are offered messages of one key at once — where only each instance keeps its keys in
    // order, one starts a later message while the other still holds an earlier one.
    const batch = (from: number, to: number): { id: string; key: string; body: { seq: number } }[] => {
      const messages = [];
      for (let block = 0; block < KEYS; block += KEYS_AT_ONCE) {
        for (let seq = from; seq < to; seq += 1) {
          for (let k = block; k < block + KEYS_AT_ONCE; k += 1) messages.push({ id: `${queue}-k${k}-${seq}`, key: `key-${k}`, body: { seq } });
        }
      }
      return messages;
    };
    const sender = await context.open();
    const producer = sender.producer();
    const half = PER_KEY / 2;
    const first = batch(0, half);
    await producer.sendBatch(queue, first);
    // Crash the first instance once a quarter is handled: it holds keys, and messages in flight.
    await waitUntil(() => seen.size >= (KEYS * PER_KEY) / 4, context.deadline(30_000));
    const beforeCrash = seen.size;
    crashedAt = Date.now();
    // The crashed process's handlers stop with it (here they run on, in this process, unseen).
    for (const running of runningByKey.values()) for (const run of running) if (run.instance === 0) running.delete(run);
    await instances[0]?.destroy();
    const second = batch(half, PER_KEY);
    await producer.sendBatch(queue, second);
    const ids = [...first, ...second].map((m) => m.id);
    await waitUntil(() => ids.every((id) => seen.has(id)), context.deadline(ackTimeoutMs + 40_000));
    const missing = ids.filter((id) => !seen.has(id)).length;
    const both = (handledBy[0] ?? 0) + (handledBy[1] ?? 0);
    return verdict(
      {
        keys: KEYS,
        perKey: PER_KEY,
        instances: 2,
        handledBeforeCrash: beforeCrash,
        crashedInstanceShare: both ? Number(((handledBy[0] ?? 0) / both).toFixed(2)) : 0,
        handoverMs: firstMovedAt ? firstMovedAt - crashedAt : -1,
        received: seen.size,
        missing,
        duplicates,
        violations,
        overlaps,
      },
      [
        missing > 0 && `${missing} messages missing after the crash`,
        violations > 0 && `${violations} same-key messages ran out of publish order across the handover`,
        overlaps > 0 && `${overlaps} times a key's message started while another of the same key ran`,
        (handledBy[0] ?? 0) === 0 && 'the crashing instance handled nothing before its crash: no key had to move',
        missing === 0 && !firstMovedAt && 'no key of the crashed instance was handled by the survivor',
      ],
    );
  },
};
