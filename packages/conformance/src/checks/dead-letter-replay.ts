import { Header, type DeadLetter, type ReceivedMessage } from '@brokerkit/core';
import { pause, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const PER_REASON = 5;
const MAX_ATTEMPTS = 2;

/**
 * `broker.deadLetters()`: what the handler gave up on is shown with its metadata by peek()
 * (which leaves it there), replay() with a filter sends back exactly the matching ones — same
 * id, headers kept, dead-letter metadata dropped, `bk-replayed-at` added, attempt 1 again — and
 * purge() removes the rest, after which the dead-letter queue is empty.
 */
export const deadLetterReplay: Check = {
  id: 'dead-letter-replay',
  title: `${PER_REASON * 2} dead letters (two reasons) peeked twice, ${PER_REASON} replayed by a filter, the rest purged`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('replay');
    let fixed = false;
    const handled = new Map<string, ReceivedMessage>();
    await broker.consumer<{ n: number; poison: boolean }>(
      queue,
      async (message, control) => {
        if (fixed) return void handled.set(message.id, message);
        if (!message.body.poison) throw new Error(`not yet fixed: ${message.body.n}`);
        control.deadLetter(`poison ${message.body.n}`);
      },
      { retry: { maxAttempts: MAX_ATTEMPTS, backoff: { initialMs: 50, multiplier: 1, jitter: 0 } } },
    );
    const messages = Array.from({ length: PER_REASON * 2 }, (_, n) => ({ id: `${queue}-${n}`, key: `k${n % 3}`, body: { n, poison: n % 2 === 0 }, headers: { 'x-origin': 'conformance' } }));
    await broker.producer().sendBatch(queue, messages);
    const poisoned = messages.filter((m) => m.body.poison).map((m) => m.id);
    const exhausted = messages.filter((m) => !m.body.poison).map((m) => m.id);
    const dead = broker.deadLetters(queue);
    let first: DeadLetter[] = [];
    await waitUntil(async () => (first = await dead.peek({ limit: 100, idleMs: 1_000 })).length >= messages.length, context.deadline(30_000));
    const second = await dead.peek({ limit: 100, idleMs: 1_000 });
    fixed = true;
    const replay = await dead.replay({ filter: (letter) => letter.reason === 'explicit', idleMs: 1_000 });
    await waitUntil(() => poisoned.every((id) => handled.has(id)), context.deadline(20_000));
    // Give a wrongly replayed message time to arrive before counting.
    await pause(500);
    const purge = await dead.purge({ idleMs: 1_000 });
    const after = await dead.peek({ limit: 100, idleMs: 1_000 });
    const byId = new Map(first.map((letter) => [letter.id, letter]));
    const replayed = [...handled.values()];
    return verdict(
      {
        deadLettered: messages.length,
        peeked: first.length,
        peekedAgain: second.length,
        replayed: replay.replayed,
        skipped: replay.skipped,
        purged: purge.purged,
        leftAfter: after.length,
        replayMs: replay.durationMs,
      },
      [
        first.length !== messages.length && `peek showed ${first.length} of ${messages.length} dead letters`,
        second.length !== first.length && `a second peek showed ${second.length}, the first ${first.length}: peek is not read-only`,
        ...metadataProblems(byId, poisoned, 'explicit', 1, queue),
        ...metadataProblems(byId, exhausted, 'max-attempts', MAX_ATTEMPTS, queue),
        replay.replayed !== poisoned.length && `replay with a filter replayed ${replay.replayed}, expected ${poisoned.length}`,
        replayed.length !== poisoned.length && `the fixed handler got ${replayed.length} replayed messages, expected ${poisoned.length}`,
        replayed.some((m) => !poisoned.includes(m.id)) && 'a message the filter skipped was replayed',
        replayed.some((m) => m.attempt !== 1) && `replayed attempts ${replayed.map((m) => m.attempt).join(',')}: not started again at 1`,
        replayed.some((m) => m.headers['x-origin'] !== 'conformance') && 'a replay lost the original headers',
        replayed.some((m) => !m.headers[Header.replayedAt]) && `a replay has no ${Header.replayedAt} header`,
        replayed.some((m) => m.headers[Header.deadLetterReason] !== undefined) && 'a replay still carries the dead-letter metadata',
        replayed.some((m) => m.key !== messages.find((sent) => sent.id === m.id)?.key) && 'a replay lost its key',
        purge.purged !== exhausted.length && `purge removed ${purge.purged}, expected ${exhausted.length}`,
        after.length !== 0 && `after replay and purge the dead-letter queue still shows ${after.length}`,
      ],
    );
  },
};

function metadataProblems(letters: Map<string, DeadLetter>, ids: string[], reason: string, attempts: number, queue: string): string[] {
  const problems: string[] = [];
  for (const id of ids) {
    const letter = letters.get(id);
    if (!letter) continue;
    if (letter.reason !== reason) problems.push(`${id}: reason ${letter.reason}, expected ${reason}`);
    if (letter.attempts !== attempts) problems.push(`${id}: attempts ${letter.attempts}, expected ${attempts}`);
    if (letter.originalTopic !== queue || letter.originalSubscription !== queue) problems.push(`${id}: from ${letter.originalTopic}/${letter.originalSubscription}, expected ${queue}`);
    if (!letter.lastError?.includes(reason === 'explicit' ? 'poison' : 'not yet fixed')) problems.push(`${id}: last error ${JSON.stringify(letter.lastError)}`);
    if (!letter.deadLetteredAt) problems.push(`${id}: no dead-lettered-at`);
    if (letter.headers['x-origin'] !== 'conformance') problems.push(`${id}: its headers were not kept`);
    if ((letter.body as { n?: number } | undefined)?.n === undefined) problems.push(`${id}: body not decoded (${letter.decodeError ?? 'no error'})`);
  }
  return problems.slice(0, 6);
}
