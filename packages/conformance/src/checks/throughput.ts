import type { Producer } from '@brokerkit/core';
import { pause, percentile, round, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const BURST_MESSAGES = 2_000;
const BATCH = 100;
const PACED_MESSAGES = 300;
const PACED_INTERVAL_MS = 3;

const now = (): number => performance.timeOrigin + performance.now();

export const throughput: Check = {
  id: 'throughput',
  title: `throughput of a ${BURST_MESSAGES}-message burst; end-to-end latency at a paced rate (reported, not asserted)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('throughput');
    await broker.ensureQueue(queue);
    let received = 0;
    let firstReceivedAt = 0;
    let lastReceivedAt = 0;
    const latencies: number[] = [];
    await broker.consumer<{ sentAt: number; paced: boolean }>(
      queue,
      async (message) => {
        const at = now();
        if (message.attempt > 1) return;
        received += 1;
        if (message.body.paced) {
          latencies.push(at - message.body.sentAt);
          return;
        }
        firstReceivedAt ||= at;
        lastReceivedAt = at;
      },
      { concurrency: 16 },
    );
    const producer = broker.producer();
    const produceMs = await burst(producer, queue);
    await waitUntil(() => received >= BURST_MESSAGES, context.deadline(60_000));
    const burstReceived = received;
    // Latency is measured one message at a time at a rate the backend sustains, so it shows
    // the path through the broker, not the queueing of a burst.
    for (let i = 0; i < PACED_MESSAGES; i += 1) {
      await producer.send(queue, { body: { sentAt: now(), paced: true } });
      await pause(PACED_INTERVAL_MS);
    }
    await waitUntil(() => latencies.length >= PACED_MESSAGES, context.deadline(30_000));
    latencies.sort((a, b) => a - b);
    const consumeMs = Math.max(1, lastReceivedAt - firstReceivedAt);
    return verdict(
      {
        messages: BURST_MESSAGES,
        produceMsgsPerSec: Math.round((BURST_MESSAGES / produceMs) * 1_000),
        consumeMsgsPerSec: Math.round((burstReceived / consumeMs) * 1_000),
        latencySamples: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
      },
      [
        burstReceived < BURST_MESSAGES && `${BURST_MESSAGES - burstReceived} of ${BURST_MESSAGES} burst messages missing`,
        latencies.length < PACED_MESSAGES && `${PACED_MESSAGES - latencies.length} of ${PACED_MESSAGES} paced messages missing`,
      ],
    );
  },
};

async function burst(producer: Producer, queue: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < BURST_MESSAGES; i += BATCH) {
    const sentAt = now();
    await producer.sendBatch(queue, Array.from({ length: Math.min(BATCH, BURST_MESSAGES - i) }, () => ({ body: { sentAt, paced: false } })));
  }
  return performance.now() - started;
}
