import { percentile, round, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const MESSAGES = 2_000;
const BATCH = 100;

export const throughput: Check = {
  id: 'throughput',
  title: `throughput and end-to-end latency, ${MESSAGES} messages (reported, not asserted)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('throughput');
    await broker.ensureQueue(queue);
    const latencies: number[] = [];
    let firstReceivedAt = 0;
    let lastReceivedAt = 0;
    await broker.consumer<{ sentAt: number }>(
      queue,
      async (message) => {
        const now = performance.timeOrigin + performance.now();
        if (firstReceivedAt === 0) firstReceivedAt = now;
        lastReceivedAt = now;
        if (message.attempt === 1) latencies.push(now - message.body.sentAt);
      },
      { concurrency: 16 },
    );
    const producer = broker.producer();
    const started = performance.now();
    for (let i = 0; i < MESSAGES; i += BATCH) {
      const sentAt = performance.timeOrigin + performance.now();
      await producer.sendBatch(queue, Array.from({ length: Math.min(BATCH, MESSAGES - i) }, () => ({ body: { sentAt } })));
    }
    const produceMs = performance.now() - started;
    await waitUntil(() => latencies.length >= MESSAGES, context.deadline(60_000));
    const consumeMs = Math.max(1, lastReceivedAt - firstReceivedAt);
    latencies.sort((a, b) => a - b);
    return verdict(
      {
        messages: MESSAGES,
        produceMsgsPerSec: Math.round((MESSAGES / produceMs) * 1_000),
        consumeMsgsPerSec: Math.round((latencies.length / consumeMs) * 1_000),
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
        received: latencies.length,
      },
      [latencies.length < MESSAGES && `${MESSAGES - latencies.length} of ${MESSAGES} messages missing`],
    );
  },
};
