import type { Producer } from '@brokerkit/core';
import { pause, percentile, round, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const BATCH = 100;
const PACED_MESSAGES = 300;
const PACED_INTERVAL_MS = 3;

const now = (): number => performance.timeOrigin + performance.now();

export const throughput: Check = {
  id: 'throughput',
  title: `throughput of a burst (2000 messages by default); end-to-end latency at a paced rate (reported, not asserted)`,
  async run(context) {
    const broker = await context.open();
    const queue = context.unique('throughput');
    const burstMessages = context.timing.burstMessages;
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
    const produceMs = await burst(producer, queue, burstMessages);
    await waitUntil(() => received >= burstMessages, context.deadline(60_000));
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
        messages: burstMessages,
        produceMsgsPerSec: Math.round((burstMessages / produceMs) * 1_000),
        consumeMsgsPerSec: Math.round((burstReceived / consumeMs) * 1_000),
        latencySamples: latencies.length,
        p50Ms: round(percentile(latencies, 50)),
        p99Ms: round(percentile(latencies, 99)),
      },
      [
        burstReceived < burstMessages && `${burstMessages - burstReceived} of ${burstMessages} burst messages missing`,
        latencies.length < PACED_MESSAGES && `${PACED_MESSAGES - latencies.length} of ${PACED_MESSAGES} paced messages missing`,
      ],
    );
  },
};

async function burst(producer: Producer, queue: string, burstMessages: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < burstMessages; i += BATCH) {
    const sentAt = now();
    await producer.sendBatch(queue, Array.from({ length: Math.min(BATCH, burstMessages - i) }, () => ({ body: { sentAt, paced: false } })));
  }
  return performance.now() - started;
}
