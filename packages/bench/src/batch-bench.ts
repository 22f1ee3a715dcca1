import { randomBytes } from 'node:crypto';
import { connect, type Broker, type Subscriber } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { median } from './workload.js';

export interface BatchBenchOptions {
  backend: string;
  url: string;
  /** `maxMessages` of the batch handler. */
  batch: number;
  messages?: number;
  /** Handler calls at once, on both sides: single handlers, or batches. */
  concurrency?: number;
  /** Single/batch pairs, the order alternating each round. */
  rounds?: number;
  /** What one handler call waits, per row: 0 (a handler that does nothing), and a round trip of this many ms (a database, a bulk API). */
  callMs?: readonly number[];
  onProgress?: (line: string) => void;
}

export interface BatchBenchRow {
  /** What each handler call waits (ms), single or batch alike. */
  callMs: number;
  /** Medians over rounds. */
  singleMsgsPerSec: number;
  batchMsgsPerSec: number;
  /** Median of each round's batch / single, and the lowest and highest of them. */
  ratio: number;
  range: [number, number];
  /** The batch handler's mean batch, over rounds. */
  meanBatch: number;
}

export interface BatchBenchReport {
  backend: string;
  url: string;
  messages: number;
  batch: number;
  concurrency: number;
  rounds: number;
  generatedAt: string;
  rows: BatchBenchRow[];
}

/** Messages per phase: enough for a phase of a second or more; the emulators are far slower. */
const MESSAGES: Record<string, number> = { memory: 20_000, redis: 20_000, rabbitmq: 20_000, kafka: 50_000, sqs: 300, pubsub: 2_000, nats: 20_000 };

/**
 * Consume throughput of a batch handler against single-message handlers, both through
 * brokerkit in this process, on fresh queues filled before the consumer attaches. Timed from
 * the first handler call's start to the last one's end, so attaching (a Kafka group join) is not counted.
 * Each row gives the handler a call of a fixed wait: a batch handler pays it once per batch,
 * a single handler once per message — what batching is for.
 */
export async function runBatchBench(options: BatchBenchOptions): Promise<BatchBenchReport> {
  const messages = options.messages ?? MESSAGES[options.backend] ?? 5_000;
  const concurrency = options.concurrency ?? 16;
  const rounds = options.rounds ?? 3;
  const calls = options.callMs ?? [0, 1];
  const broker = await connect(options.url);
  const rows: BatchBenchRow[] = [];
  try {
    const prefix = `bk-bench-batch-${randomBytes(3).toString('hex')}`;
    let phase = 0;
    for (const callMs of calls) {
      const single: number[] = [];
      const batched: number[] = [];
      const ratios: number[] = [];
      const sizes: number[] = [];
      for (let round = 1; round <= rounds; round += 1) {
        const order: ('single' | 'batch')[] = round % 2 === 1 ? ['single', 'batch'] : ['batch', 'single'];
        const figures: Record<string, number> = {};
        for (const side of order) {
          const queue = `${prefix}-${(phase += 1)}`;
          const run = await consumeOnce(broker, queue, messages, side === 'batch' ? options.batch : 0, concurrency, callMs);
          figures[side] = run.msgsPerSec;
          if (side === 'batch') sizes.push(run.meanBatch);
          options.onProgress?.(`${options.backend} call ${callMs} ms, round ${round}: ${side} ${run.msgsPerSec} msg/s${side === 'batch' ? ` (mean batch ${run.meanBatch})` : ''}`);
        }
        single.push(figures.single as number);
        batched.push(figures.batch as number);
        ratios.push((figures.batch as number) / (figures.single as number));
      }
      rows.push({
        callMs,
        singleMsgsPerSec: Math.round(median(single)),
        batchMsgsPerSec: Math.round(median(batched)),
        ratio: round2(median(ratios)),
        range: [round2(Math.min(...ratios)), round2(Math.max(...ratios))],
        meanBatch: Math.round((sizes.reduce((sum, size) => sum + size, 0) / sizes.length) * 10) / 10,
      });
    }
  } finally {
    await broker.close();
  }
  return { backend: options.backend, url: options.url, messages, batch: options.batch, concurrency, rounds, generatedAt: new Date().toISOString(), rows };
}

/** Fill `queue` with `messages`, then consume them all: single handlers (`batch` 0) or batches of up to `batch`. */
async function consumeOnce(broker: Broker, queue: string, messages: number, batch: number, concurrency: number, callMs: number): Promise<{ msgsPerSec: number; meanBatch: number }> {
  await broker.ensureQueue(queue);
  const producer = broker.producer();
  for (let sent = 0; sent < messages; sent += 100) {
    await producer.sendBatch(queue, Array.from({ length: Math.min(100, messages - sent) }, (_, i) => ({ body: { n: sent + i } })));
  }
  let handled = 0;
  let calls = 0;
  let first = 0;
  let last = 0;
  /** A handler call: the clock starts with the first. */
  const call = (): Promise<void> | undefined => {
    if (first === 0) first = performance.now();
    return callMs > 0 ? new Promise((resolve) => setTimeout(resolve, callMs)) : undefined;
  };
  const took = (count: number): void => {
    handled += count;
    calls += 1;
    if (handled >= messages) last = performance.now();
  };
  const consumer: Subscriber =
    batch > 0
      ? await broker.consumer(queue, async (batchOf) => {
          await call();
          took(batchOf.length);
        }, { concurrency, batch: { maxMessages: batch, maxWaitMs: 20 } })
      : await broker.consumer(queue, async () => {
          await call();
          took(1);
        }, { concurrency });
  try {
    if (!(await waitUntil(() => handled >= messages, 600_000, 10))) throw new Error(`timed out consuming ${queue}: ${handled} of ${messages}`);
  } finally {
    await consumer.close();
  }
  const seconds = Math.max(1e-3, (last - first) / 1_000);
  return { msgsPerSec: Math.round(messages / seconds), meanBatch: Math.round((handled / calls) * 10) / 10 };
}

const round2 = (value: number): number => Math.round(value * 100) / 100;
