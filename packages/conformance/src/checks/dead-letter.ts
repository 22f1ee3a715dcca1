import { Header, type ReceivedMessage } from '@brokerkit/core';
import { pause, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MAX_ATTEMPTS = 3;
const BACKOFF_MS = 50;

export const deadLetterAfterMaxAttempts: Check = {
  id: 'dead-letter',
  title: `after maxAttempts (${MAX_ATTEMPTS}) the message moves to the DLQ with metadata, never to the handler again`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('dlq');
    const deadLetterQueue = `${queue}.dlq`;
    let handlerCalls = 0;
    const dead: ReceivedMessage[] = [];
    await broker.consumer(
      queue,
      async () => {
        handlerCalls += 1;
        throw new Error('always fails: poison');
      },
      { retry: { maxAttempts: MAX_ATTEMPTS, backoff: { initialMs: BACKOFF_MS, multiplier: 1, jitter: 0 } } },
    );
    await broker.consumer(deadLetterQueue, async (message) => {
      dead.push(message);
    });
    const { id } = await broker.producer().send(queue, { body: { order: 7 }, headers: { 'x-origin': 'conformance' } });
    await waitUntil(() => dead.length > 0, context.deadline(20_000));
    // Give a wrongly redelivered message time to reach the handler again before counting.
    await pause(Math.max(500, BACKOFF_MS * 4));
    const got = dead[0];
    const headers = got?.headers ?? {};
    const problems = metadataProblems(headers, { id, queue, attempts: MAX_ATTEMPTS, reason: 'max-attempts', error: 'always fails: poison' });
    return verdict({ handlerCalls, deadLettered: dead.length, attemptsHeader: headers[Header.attempts] ?? '', reasonHeader: headers[Header.deadLetterReason] ?? '' }, [
      dead.length === 0 && 'nothing reached the dead-letter queue',
      dead.length > 1 && `dead-lettered ${dead.length} times`,
      handlerCalls !== MAX_ATTEMPTS && `handler called ${handlerCalls} times, expected exactly ${MAX_ATTEMPTS}`,
      got && JSON.stringify(got.body) !== JSON.stringify({ order: 7 }) && 'dead-lettered body differs',
      got && headers['x-origin'] !== 'conformance' && 'original headers were not kept',
      ...problems,
    ]);
  },
};

export const explicitDeadLetter: Check = {
  id: 'explicit-dead-letter',
  title: 'a handler can dead-letter a poison message at once, without retries',
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('poison');
    let handlerCalls = 0;
    const dead: ReceivedMessage[] = [];
    await broker.consumer(
      queue,
      async (_message, control) => {
        handlerCalls += 1;
        control.deadLetter('schema version 0 is not supported');
      },
      { retry: { maxAttempts: 5, backoff: { initialMs: 50, jitter: 0 } } },
    );
    await broker.consumer(`${queue}.dlq`, async (message) => {
      dead.push(message);
    });
    const { id } = await broker.producer().send(queue, { body: { version: 0 } });
    await waitUntil(() => dead.length > 0, context.deadline(15_000));
    await pause(300);
    const headers = dead[0]?.headers ?? {};
    return verdict({ handlerCalls, deadLettered: dead.length, reasonHeader: headers[Header.deadLetterReason] ?? '' }, [
      dead.length !== 1 && `dead-lettered ${dead.length} times, expected once`,
      handlerCalls !== 1 && `handler called ${handlerCalls} times, expected once`,
      ...(dead.length ? metadataProblems(headers, { id, queue, attempts: 1, reason: 'explicit', error: 'schema version 0 is not supported' }) : []),
    ]);
  },
};

function metadataProblems(
  headers: Readonly<Record<string, string>>,
  expected: { id: string; queue: string; attempts: number; reason: string; error: string },
): string[] {
  const problems: string[] = [];
  const want: [string, string][] = [
    [Header.originalId, expected.id],
    [Header.originalTopic, expected.queue],
    [Header.originalSubscription, expected.queue],
    [Header.attempts, String(expected.attempts)],
    [Header.deadLetterReason, expected.reason],
  ];
  for (const [name, value] of want) {
    if (headers[name] !== value) problems.push(`header ${name}=${JSON.stringify(headers[name])}, expected ${JSON.stringify(value)}`);
  }
  if (!headers[Header.lastError]?.includes(expected.error)) problems.push(`header ${Header.lastError} lacks the error text`);
  if (Number.isNaN(Date.parse(headers[Header.deadLetteredAt] ?? ''))) problems.push(`header ${Header.deadLetteredAt} is not a time`);
  return problems;
}
