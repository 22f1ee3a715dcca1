import { waitUntil } from '@brokerkit/conformance';
import { now, type BenchBody, type BenchTarget } from './target.js';

export interface WorkloadOptions {
  messages: number;
  sizeBytes: number;
  concurrency: number;
  /** Messages sent one at a time (each awaited). */
  singles: number;
  batchSize: number;
  /** Paced latency phase: messages, and the rate they are sent at. */
  latencyMessages: number;
  latencyRatePerSec: number;
  /** Longest wait for a phase's messages to arrive. */
  phaseTimeoutMs: number;
}

/** What one run (one process, one side) measured. */
export interface RunFigures {
  produceSingleMsgsPerSec: number;
  produceMsgsPerSec: number;
  produceMBPerSec: number;
  consumeMsgsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  peakRssBytes: number;
  /**
   * CPU time of this process (user + system) per message, in µs: what the client library (and
   * brokerkit on top) costs, independent of how fast the broker answers on a shared machine.
   */
  produceCpuUsPerMsg: number;
  consumeCpuUsPerMsg: number;
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
/** CPU µs (user + system) this process spent since `since`. */
const cpuUsSince = (since: NodeJS.CpuUsage): number => {
  const spent = process.cpuUsage(since);
  return spent.user + spent.system;
};

/** Wait for `condition`; a phase that never completes fails the run, saying what was missing. */
async function waitFor(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  if (!(await waitUntil(condition, timeoutMs))) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
}

/**
 * The bench workload, the same for both sides: a warm-up (the same phases, a fifth of the size,
 * not measured: JIT compilation and connection set-up are not throughput), then single sends,
 * batched sends, consumption of what the batches filled (with ack), and end-to-end latency at
 * a paced, sustainable rate. Every phase uses fresh queues.
 */
export async function runWorkload(target: BenchTarget, options: WorkloadOptions, prefix: string): Promise<RunFigures> {
  const fifth = (n: number): number => Math.max(1, Math.floor(n / 5));
  await measure(target, { ...options, messages: fifth(options.messages), singles: fifth(options.singles), latencyMessages: fifth(options.latencyMessages) }, queuesOf(prefix, 'warm'));
  return measure(target, options, queuesOf(prefix, 'main'));
}

/** The queues of one stage of a run: one per phase, named here only. */
function queuesOf(prefix: string, stage: 'warm' | 'main'): { single: string; bulk: string; paced: string } {
  return { single: `${prefix}-${stage}-single`, bulk: `${prefix}-${stage}-bulk`, paced: `${prefix}-${stage}-paced` };
}

/** Every queue name a run with this prefix uses (what a broker without name listing must be told to delete). */
export const workloadQueues = (prefix: string): string[] => (['warm', 'main'] as const).flatMap((stage) => Object.values(queuesOf(prefix, stage)));

async function measure(target: BenchTarget, options: WorkloadOptions, queues: { single: string; bulk: string; paced: string }): Promise<RunFigures> {
  const pad = 'x'.repeat(Math.max(0, options.sizeBytes - 40));
  const body = (): BenchBody => ({ sentAt: now(), pad });

  // 1. single sends, each awaited
  const singles = queues.single;
  await target.setup(singles);
  let started = performance.now();
  for (let i = 0; i < options.singles; i += 1) await target.send(singles, body());
  const singleMs = performance.now() - started;

  // 2. batches
  const { bulk } = queues;
  await target.setup(bulk);
  started = performance.now();
  let cpu = process.cpuUsage();
  for (let i = 0; i < options.messages; i += options.batchSize) {
    await target.sendBatch(bulk, Array.from({ length: Math.min(options.batchSize, options.messages - i) }, body));
  }
  const batchMs = performance.now() - started;
  const produceCpuUs = cpuUsSince(cpu);

  // 3. consume what the batches filled
  let consumed = 0;
  let firstAt = 0;
  let lastAt = 0;
  cpu = process.cpuUsage();
  const stopBulk = await target.consume(bulk, options.concurrency, () => {
    const at = performance.now();
    firstAt ||= at;
    lastAt = at;
    consumed += 1;
  });
  await waitFor(() => consumed >= options.messages, options.phaseTimeoutMs, () => `${options.messages} messages to be consumed (got ${consumed})`);
  const consumeCpuUs = cpuUsSince(cpu);
  await stopBulk();
  // From the first delivery: attaching (a group join, a stream) is not throughput.
  const consumeMs = Math.max(1, lastAt - firstAt);

  // 4. paced end-to-end latency
  const { paced } = queues;
  await target.setup(paced);
  const latencies: number[] = [];
  const stopPaced = await target.consume(paced, options.concurrency, (received) => {
    latencies.push(now() - received.sentAt);
  });
  const interval = 1_000 / options.latencyRatePerSec;
  const pacedStart = performance.now();
  for (let i = 0; i < options.latencyMessages; i += 1) {
    const due = pacedStart + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await target.send(paced, body());
  }
  await waitFor(() => latencies.length >= options.latencyMessages, options.phaseTimeoutMs, () => `${options.latencyMessages} paced messages (got ${latencies.length})`);
  await stopPaced();
  latencies.sort((a, b) => a - b);

  return {
    produceSingleMsgsPerSec: Math.round((options.singles / singleMs) * 1_000),
    produceMsgsPerSec: Math.round((options.messages / batchMs) * 1_000),
    produceMBPerSec: round(((options.messages * options.sizeBytes) / batchMs) * 1_000 / 1_048_576, 2),
    consumeMsgsPerSec: Math.round(((consumed - 1) / consumeMs) * 1_000),
    p50Ms: round(percentile(latencies, 50), 2),
    p95Ms: round(percentile(latencies, 95), 2),
    p99Ms: round(percentile(latencies, 99), 2),
    peakRssBytes: process.resourceUsage().maxRSS * 1_024,
    produceCpuUsPerMsg: round(produceCpuUs / options.messages, 2),
    consumeCpuUsPerMsg: round(consumeCpuUs / consumed, 2),
  };
}
