import { randomBytes } from 'node:crypto';
import { waitUntil } from '@brokerkit/conformance';
import { Header, type Broker } from '@brokerkit/core';
import { sleep } from '@brokerkit/core/driver';
import type { ScenarioResult } from './report.js';

const POISON = 10;
const GOOD = 10;
const MAX_ATTEMPTS = 3;

/**
 * A handler that always throws for some messages (they must end in the DLQ after exactly
 * maxAttempts, and then stop coming), one slower than the lease (it must be handled once:
 * its lease is kept), and good messages around them (all handled).
 */
export async function poison(broker: Broker, options: { ackTimeoutMs: number; slowMs: number }): Promise<ScenarioResult> {
  const queue = `bk-faults-poison-${randomBytes(4).toString('hex')}`;
  const calls = new Map<string, number>();
  const good = new Map<string, number>();
  const deadLettered = new Map<string, string>();
  let slowDeliveries = 0;
  let slowId = '';
  const consumer = await broker.consumer<{ kind: 'poison' | 'good' | 'slow' }>(
    queue,
    async (message) => {
      if (message.body.kind === 'poison') {
        calls.set(message.id, (calls.get(message.id) ?? 0) + 1);
        throw new Error('poison: this handler always fails');
      }
      if (message.body.kind === 'slow') {
        slowDeliveries += 1;
        await sleep(options.slowMs);
      }
      good.set(message.id, (good.get(message.id) ?? 0) + 1);
    },
    { concurrency: 8, ackTimeoutMs: options.ackTimeoutMs, retry: { maxAttempts: MAX_ATTEMPTS, backoff: { initialMs: 50, maxMs: 200 } } },
  );
  const dlq = await broker.consumer(`${queue}.dlq`, (message) => {
    deadLettered.set(message.id, message.headers[Header.deadLetterReason] ?? '');
  });
  try {
    const producer = broker.producer();
    const poisonIds = (await producer.sendBatch(queue, Array.from({ length: POISON }, () => ({ body: { kind: 'poison' as const } })))).map((r) => r.id);
    slowId = (await producer.send(queue, { body: { kind: 'slow' as const } })).id;
    const goodIds = (await producer.sendBatch(queue, Array.from({ length: GOOD }, () => ({ body: { kind: 'good' as const } })))).map((r) => r.id);
    const started = Date.now();
    const done = (): boolean => poisonIds.every((id) => deadLettered.has(id)) && goodIds.every((id) => good.has(id)) && good.has(slowId);
    await waitUntil(done, options.slowMs + 120_000);
    const settledAfterMs = Date.now() - started;
    // No infinite loop: nothing more arrives for the poison messages once they are dead-lettered.
    await sleep(Math.max(2_000, options.ackTimeoutMs));
    const maxCalls = Math.max(0, ...calls.values());
    const minCalls = Math.min(...poisonIds.map((id) => calls.get(id) ?? 0));
    const lost = poisonIds.filter((id) => !deadLettered.has(id)).length + goodIds.filter((id) => !good.has(id)).length + (good.has(slowId) ? 0 : 1);
    const duplicates = [...good.values()].reduce((sum, n) => sum + n - 1, 0);
    const wrongReason = [...deadLettered.values()].filter((reason) => reason !== 'max-attempts').length;
    const failures = [
      lost > 0 && `${lost} messages neither handled nor dead-lettered`,
      (maxCalls !== MAX_ATTEMPTS || minCalls !== MAX_ATTEMPTS) && `poison handler ran ${minCalls}–${maxCalls} times per message, want exactly ${MAX_ATTEMPTS}`,
      slowDeliveries !== 1 && `the slow message was delivered ${slowDeliveries} times (its lease was not kept)`,
      wrongReason > 0 && `${wrongReason} dead letters without reason max-attempts`,
    ].filter(Boolean);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: POISON + GOOD + 1,
      confirmed: POISON + GOOD + 1,
      handled: good.size + deadLettered.size,
      lost,
      duplicates,
      recoveryMs: settledAfterMs,
      details: { poison: POISON, maxAttempts: MAX_ATTEMPTS, poisonHandlerCalls: `${minCalls}–${maxCalls}`, deadLettered: deadLettered.size, slowHandlerMs: options.slowMs, slowDeliveries },
    };
  } finally {
    await Promise.allSettled([consumer.close(), dlq.close()]);
  }
}
