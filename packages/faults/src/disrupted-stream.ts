import { randomBytes } from 'node:crypto';
import { waitUntil } from '@brokerkit/conformance';
import { type Broker } from '@brokerkit/core';
import { sleep } from '@brokerkit/core/driver';
import type { ScenarioResult } from './report.js';

export interface Disruption {
  /** Breaks and repairs the path to the broker; resolves when it is repaired. */
  run(): Promise<void>;
  /** Figures of the disruption itself, for the report. */
  details?: Record<string, number | string | boolean>;
}

/**
 * A producer sends `messages` one by one and a consumer handles them while `disruption` runs
 * (started after a third). A send that fails is retried by the application, as a user would,
 * and counted; none may hang (the slowest is reported). Afterwards every confirmed message
 * must have been handled; recovery = from the repair to the next handled message.
 */
export async function disruptedStream(broker: Broker, label: string, messages: number, disruption: Disruption): Promise<ScenarioResult> {
  const queue = `bk-faults-${label}-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  const handled = new Map<string, number>();
  let repairedAt = 0;
  let handledAfterRepair = 0;
  const consumerErrors: string[] = [];
  const consumer = await broker.consumer(
    queue,
    (message) => {
      handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
      if (repairedAt && !handledAfterRepair) handledAfterRepair = Date.now();
    },
    { concurrency: 4, onError: (error) => consumerErrors.push(error.message) },
  );
  try {
    const producer = broker.producer();
    const confirmed: string[] = [];
    let failedSends = 0;
    let slowestSendMs = 0;
    let running: Promise<void> | undefined;
    let disruptionError: string | undefined;
    for (let n = 0; n < messages; n += 1) {
      if (n === Math.floor(messages / 3)) {
        running = disruption.run().then(
          () => {
            repairedAt = Date.now();
          },
          (error: unknown) => {
            disruptionError = (error as Error).message;
          },
        );
      }
      const deadline = Date.now() + 120_000;
      for (;;) {
        const started = Date.now();
        try {
          confirmed.push((await producer.send(queue, { body: { n } })).id);
          slowestSendMs = Math.max(slowestSendMs, Date.now() - started);
          break;
        } catch (error) {
          slowestSendMs = Math.max(slowestSendMs, Date.now() - started);
          failedSends += 1;
          if (Date.now() > deadline) throw new Error(`send ${n} kept failing for 120 s: ${(error as Error).message}`);
          await sleep(250);
        }
      }
      await sleep(5);
    }
    await running;
    await waitUntil(() => confirmed.every((id) => handled.has(id)), 120_000);
    const lostIds = confirmed.filter((id) => !handled.has(id));
    const lost = lostIds.length;
    const duplicates = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);
    const failures = [
      disruptionError && `the disruption failed: ${disruptionError}`,
      lost > 0 && `${lost} confirmed messages never handled`,
      slowestSendMs > 60_000 && `a send took ${slowestSendMs} ms`,
    ].filter(Boolean);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: messages,
      confirmed: confirmed.length,
      handled: handled.size,
      lost,
      duplicates,
      recoveryMs: repairedAt && handledAfterRepair ? Math.max(0, handledAfterRepair - repairedAt) : null,
      details: {
        ...disruption.details,
        failedSends,
        slowestSendMs,
        consumerErrorsReported: consumerErrors.length,
        // Where to look in the broker when something is missing.
        ...(lost > 0 ? { queue, lostIds: lostIds.slice(0, 5).join(' ') } : {}),
      },
    };
  } finally {
    await consumer.close();
  }
}
