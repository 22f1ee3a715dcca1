import { Header, type ReceivedMessage } from '@brokerkit/core';
import { keyedMessages, pause, sendAndAwaitAll, Tally, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MAX_MESSAGES = 50;
const MAX_ATTEMPTS = 3;
const retry = { maxAttempts: MAX_ATTEMPTS, backoff: { initialMs: 100, maxMs: 100, multiplier: 1, jitter: 0 } };

/**
 * Batch handlers (issue 34): the outcomes of a batch. 200 messages wait in a queue, then a batch
 * consumer attaches. Its first batch throws: every message of it must come again, a later
 * attempt. `control.retry()` retries one message alone, `control.deadLetter()` moves one to the
 * DLQ at once, and one retried by `control` every time is dead-lettered at maxAttempts — each
 * with the metadata a single handler's would have; every other message is acked once.
 */
export const batchOutcomes: Check = {
  id: 'batch-outcomes',
  title: `batch handler: 200 messages in batches of ≤ ${MAX_MESSAGES}; a batch that throws is retried whole, control settles single messages`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('batch');
    const ids = Array.from({ length: 200 }, (_, i) => `${queue}-n${i}`);
    const [retryOnce, poison, hopeless] = ['retry-once', 'poison', 'hopeless'].map((name) => `${queue}-${name}`) as [string, string, string];
    const acked = new Tally();
    const seen = new Map<string, number[]>();
    const sizes: number[] = [];
    let thrown: string[] | undefined;
    let retried = false;
    /** Messages whose body did not come as sent (each body is `{ id }`): the round trip in batch mode. */
    let bodyMismatches = 0;
    await broker.ensureQueue(queue);
    await broker.producer().sendBatch(queue, [...ids, retryOnce, poison, hopeless].map((id) => ({ id, body: { id } })));
    const dead = new Map<string, ReceivedMessage>();
    await broker.consumer(`${queue}.dlq`, (message) => void dead.set(message.id, message));
    await broker.consumer<{ id: string }>(
      queue,
      (messages, control) => {
        sizes.push(messages.length);
        for (const message of messages) {
          seen.set(message.id, [...(seen.get(message.id) ?? []), message.attempt]);
          if (message.body?.id !== message.id) bodyMismatches += 1;
        }
        if (thrown === undefined) {
          thrown = messages.map((message) => message.id);
          throw new Error('the whole batch fails once');
        }
        for (const message of messages) {
          if (message.id === poison) control.deadLetter(message, 'poison row');
          else if (message.id === hopeless) control.retry(message, 50);
          else if (message.id === retryOnce && !retried) {
            retried = true;
            control.retry(message, 50);
          } else acked.record(message.id);
        }
      },
      { batch: { maxMessages: MAX_MESSAGES, maxWaitMs: 200 }, concurrency: 2, retry },
    );
    const expected = [...ids, retryOnce];
    await waitUntil(() => acked.hasAll(expected) && dead.size >= 2, context.deadline(30_000));
    // Give a wrongly redelivered message time to reach the handler again before counting.
    await pause(500);
    const missing = acked.missingFrom(expected).length;
    const thrownBatch = thrown ?? [];
    const notRetried = thrownBatch.filter((id) => !(seen.get(id) ?? []).some((attempt) => attempt > 1)).length;
    const poisoned = dead.get(poison);
    const exhausted = dead.get(hopeless);
    const poisonCalls = seen.get(poison)?.length ?? 0;
    const hopelessAttempts = seen.get(hopeless) ?? [];
    const largest = Math.max(0, ...sizes);
    return verdict(
      {
        messages: expected.length + 2,
        batches: sizes.length,
        largestBatch: largest,
        meanBatch: sizes.length ? Math.round((sizes.reduce((sum, size) => sum + size, 0) / sizes.length) * 10) / 10 : 0,
        thrownBatch: thrownBatch.length,
        acked: acked.distinct,
        missing,
        duplicates: acked.duplicates,
        deadLettered: dead.size,
        bodyMismatches,
      },
      [
        bodyMismatches > 0 && `${bodyMismatches} messages arrived with a body other than the one sent`,
        missing > 0 && `${missing} of ${expected.length} messages were never acked`,
        largest > MAX_MESSAGES && `a batch of ${largest} (more than maxMessages ${MAX_MESSAGES})`,
        largest < 2 && 'messages never came in batches: every batch held one message',
        notRetried > 0 && `${notRetried} of the ${thrownBatch.length} messages of the batch that threw were not tried again`,
        (seen.get(retryOnce)?.length ?? 0) < 2 && 'the message given to control.retry() did not come again',
        !poisoned && 'the message given to control.deadLetter() is not in the DLQ',
        poisoned && poisoned.headers[Header.deadLetterReason] !== 'explicit' && `control.deadLetter(): reason ${poisoned.headers[Header.deadLetterReason]}, expected explicit`,
        poisonCalls > (thrownBatch.includes(poison) ? 2 : 1) && `the dead-lettered message reached the handler ${poisonCalls} times`,
        !exhausted && `the message retried by control every time was not dead-lettered after ${MAX_ATTEMPTS} attempts`,
        exhausted && exhausted.headers[Header.deadLetterReason] !== 'max-attempts' && `retried every time: reason ${exhausted.headers[Header.deadLetterReason]}, expected max-attempts`,
        exhausted && exhausted.headers[Header.attempts] !== String(MAX_ATTEMPTS) && `retried every time: attempts header ${exhausted.headers[Header.attempts]}, expected ${MAX_ATTEMPTS}`,
        hopelessAttempts.length !== MAX_ATTEMPTS && `the message retried every time reached the handler ${hopelessAttempts.length} times, expected ${MAX_ATTEMPTS}`,
      ],
    );
  },
};

const KEYS = 8;
const PER_KEY = 25;

/**
 * Batch handlers with `ordering: 'key'`: a batch holds at most one message of a key (the next
 * one; the key's following message joins a batch once it is settled), so no key is in two
 * batches at once and each key's messages run in publish order. Two instances where the backend
 * orders keys across instances.
 */
export const batchKeyOrdering: Check = {
  id: 'batch-key-ordering',
  title: `batch handler, ordering 'key': ${KEYS} keys × ${PER_KEY} messages; a key never twice in a batch nor in two batches at once, publish order kept`,
  async run(context) {
    const scope = context.capabilities.ordering;
    if (scope === 'none') return { status: 'unsupported', reason: 'backend reports no per-key ordering', figures: {} };
    const instances = scope === 'per-key' ? 2 : 1;
    const queue = context.unique('batch-order');
    const lastSeen = new Map<string, number>();
    const tally = new Tally();
    const running = new Set<string>();
    const sizes: number[] = [];
    let violations = 0;
    let twiceInBatch = 0;
    let overlaps = 0;
    for (let index = 0; index < instances; index += 1) {
      const broker = await context.open();
      await broker.consumer<{ seq: number }>(
        queue,
        async (messages) => {
          sizes.push(messages.length);
          const keys = messages.map((message) => message.key as string);
          const distinct = new Set(keys);
          twiceInBatch += keys.length - distinct.size;
          for (const key of distinct) {
            if (running.has(key)) overlaps += 1;
            running.add(key);
          }
          for (const message of messages) {
            const key = message.key as string;
            if (!tally.has(message.id)) {
              if (message.body.seq <= (lastSeen.get(key) ?? -1)) violations += 1;
              lastSeen.set(key, message.body.seq);
            }
            tally.record(message.id);
          }
          await pause(Math.floor(Math.random() * 5));
          for (const key of distinct) running.delete(key);
        },
        { batch: { maxMessages: 20, maxWaitMs: 50 }, concurrency: 3, ordering: 'key' },
      );
    }
    const missing = await sendAndAwaitAll(context, queue, keyedMessages(queue, KEYS, PER_KEY), tally, context.deadline(30_000));
    const largest = Math.max(0, ...sizes);
    return verdict(
      { keys: KEYS, perKey: PER_KEY, instances, batches: sizes.length, largestBatch: largest, received: tally.distinct, missing, duplicates: tally.duplicates, violations, twiceInBatch, overlaps },
      [
        missing > 0 && `${missing} messages missing`,
        violations > 0 && `${violations} same-key messages ran out of publish order`,
        twiceInBatch > 0 && `${twiceInBatch} times a batch held a key twice`,
        overlaps > 0 && `${overlaps} times a key was in two batches at once`,
        largest < 2 && 'messages of different keys never shared a batch',
      ],
    );
  },
};

/**
 * Batch handlers and a crash: an instance takes a batch and dies before finishing it (its
 * connection dropped); every message of that batch comes to another instance, a later attempt.
 */
export const batchCrash: Check = {
  id: 'batch-crash',
  title: 'batch handler: a connection dropped mid-batch redelivers every message of the batch to another instance',
  async run(context) {
    if (!context.capabilities.redeliveryOnCrash) return { status: 'unsupported', reason: 'backend reports no redelivery after a crash', figures: {} };
    const { ackTimeoutMs } = context.timing;
    const queue = context.unique('batch-crash');
    const ids = Array.from({ length: 10 }, (_, i) => `${queue}-${i}`);
    const crashing = await context.open();
    await crashing.ensureQueue(queue);
    await crashing.producer().sendBatch(queue, ids.map((id) => ({ id, body: { id } })));
    let held: string[] = [];
    await crashing.consumer(
      queue,
      (messages) => {
        held = messages.map((message) => message.id);
        return new Promise<void>(() => undefined);
      },
      { batch: { maxMessages: 10, maxWaitMs: 500 }, ackTimeoutMs },
    );
    await waitUntil(() => held.length > 0, context.deadline(15_000));
    if (held.length === 0) return { status: 'fail', reason: 'the first instance never received a batch', figures: {} };
    // Mid-batch, not within milliseconds of the fetch: where the attempt count is approximate
    // (Kafka records deliveries in a commit it does not wait for), a crash that close may not count.
    await pause(200);
    const crashedAt = Date.now();
    await crashing.destroy();
    const again = new Map<string, number>();
    let redeliveredAfterMs = -1;
    const survivor = await context.open();
    await survivor.consumer(
      queue,
      (messages) => {
        for (const message of messages) if (!again.has(message.id)) again.set(message.id, message.attempt);
        if (held.every((id) => again.has(id)) && redeliveredAfterMs < 0) redeliveredAfterMs = Date.now() - crashedAt;
      },
      { batch: { maxMessages: 10, maxWaitMs: 100 }, ackTimeoutMs },
    );
    await waitUntil(() => ids.every((id) => again.has(id)), context.deadline(ackTimeoutMs + 20_000));
    const lost = held.filter((id) => !again.has(id)).length;
    const exact = context.capabilities.attemptCount === 'exact';
    const attemptNotGrown = held.filter((id) => again.has(id) && (exact ? again.get(id) !== 2 : (again.get(id) ?? 0) < 2)).length;
    const others = ids.filter((id) => !again.has(id)).length;
    return verdict({ batch: held.length, redelivered: held.length - lost, redeliveredAfterMs, attemptNotGrown, otherMissing: others - lost, ackTimeoutMs }, [
      lost > 0 && `${lost} of the ${held.length} messages of the crashed batch never came again`,
      others - lost > 0 && `${others - lost} messages outside the crashed batch never arrived`,
      attemptNotGrown > 0 && `${attemptNotGrown} redelivered messages do not count the crashed attempt (${exact ? 'expected attempt 2' : 'expected attempt ≥ 2'})`,
    ]);
  },
};
