import { randomBytes } from 'node:crypto';
import type { Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { sleep, waitUntil } from './wait.js';

export interface RestartOptions {
  /** Messages sent one by one; the restart starts after a third of them. */
  messages: number;
  /** Restarts the broker, keeping its data; resolves when it answers again. */
  restart: () => Promise<void>;
}

/**
 * A producer sends and a consumer handles while the broker restarts. A send that fails is
 * retried by the application (as a user would) and counted; afterwards every confirmed
 * message must have been handled: recovery is the time from the broker answering again to the
 * next handled message.
 */
export async function brokerRestart(broker: Broker, options: RestartOptions): Promise<ScenarioResult> {
  const queue = `bk-faults-restart-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  const handled = new Map<string, number>();
  let handledAfterRestartAt = 0;
  let restartEndedAt = 0;
  const errors: string[] = [];
  const consumer = await broker.consumer(
    queue,
    (message) => {
      handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
      if (restartEndedAt && !handledAfterRestartAt) handledAfterRestartAt = Date.now();
    },
    { concurrency: 4, onError: (error) => errors.push(error.message) },
  );
  try {
    const producer = broker.producer();
    const confirmed: string[] = [];
    let retriedSends = 0;
    let restarting: Promise<void> | undefined;
    let restartError: string | undefined;
    for (let n = 0; n < options.messages; n += 1) {
      if (n === Math.floor(options.messages / 3)) {
        restarting = options.restart().then(
          () => {
            restartEndedAt = Date.now();
          },
          (error: unknown) => {
            restartError = (error as Error).message;
          },
        );
      }
      const deadline = Date.now() + 120_000;
      for (;;) {
        try {
          confirmed.push((await producer.send(queue, { body: { n } })).id);
          break;
        } catch (error) {
          retriedSends += 1;
          if (Date.now() > deadline) throw new Error(`send ${n} kept failing for 120 s: ${(error as Error).message}`);
          await sleep(250);
        }
      }
      await sleep(5);
    }
    await restarting;
    await waitUntil(() => confirmed.every((id) => handled.has(id)), 120_000);
    const lost = confirmed.filter((id) => !handled.has(id)).length;
    const duplicates = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);
    const failures = [restartError && `the restart failed: ${restartError}`, lost > 0 && `${lost} confirmed messages never handled`].filter(Boolean);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: options.messages,
      confirmed: confirmed.length,
      handled: handled.size,
      lost,
      duplicates,
      recoveryMs: restartEndedAt && handledAfterRestartAt ? Math.max(0, handledAfterRestartAt - restartEndedAt) : null,
      details: { retriedSends, consumerErrorsReported: errors.length },
    };
  } finally {
    await consumer.close();
  }
}
