import { waitUntil } from '@brokerkit/conformance';
import { now, type BenchBody, type BenchTarget } from './target.js';

export interface WorkloadOptions {
  /** Messages sent in batches. */
  messages: number;
  /** How many of those the consume phase reads (the first ones): all, unless the broker consumes far slower than it takes sends. */
  consumeMessages: number;
  sizeBytes: number;
  concurrency: number;
  /** Messages sent one at a time (each awaited), per side: see runSingles. */
  singles: number;
  batchSize: number;
  /** Paced latency phase: messages, and the rate they are sent at. */
  latencyMessages: number;
  latencyRatePerSec: number;
  /** Longest wait for a phase's messages to arrive. */
  phaseTimeoutMs: number;
}

/** What one run's worker prints: its figures, and its paced latencies (ms, ascending), which the bench pools over rounds. */
export type RunOutput = RunFigures & { latencySamplesMs: number[] };

/** What one run (one process, one side) measured. */
export interface RunFigures {
  produceSingleMsgsPerSec: number;
  produceMsgsPerSec: number;
  produceMBPerSec: number;
  consumeMsgsPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** The same percentiles with the sides taking turns in one process (runPacedTurns). */
  p50InTurnsMs: number;
  p99InTurnsMs: number;
  peakRssBytes: number;
  /**
   * CPU time of this process (user + system) per message, in µs: what the client library (and
   * brokerkit on top) costs, independent of how fast the broker answers on a shared machine.
   */
  produceCpuUsPerMsg: number;
  consumeCpuUsPerMsg: number;
}

/** The p-th percentile of ascending `sorted` (nearest rank). */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
/** The median of `values` (the mean of the middle two for an even count). */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};
const round = (value: number, digits = 1): number => Math.round(value * 10 ** digits) / 10 ** digits;
/** p50, p95 and p99 of ascending `sorted` (ms), to two decimals. */
export const latencyPercentiles = (sorted: readonly number[]): Pick<RunFigures, 'p50Ms' | 'p95Ms' | 'p99Ms'> => ({
  p50Ms: round(percentile(sorted, 50), 2),
  p95Ms: round(percentile(sorted, 95), 2),
  p99Ms: round(percentile(sorted, 99), 2),
});

/** What a `turns:` worker prints: each side's single sends per second and its paced latencies (ms, ascending), in the order given. */
export interface TurnsOutput {
  singles: number[];
  latencySamplesMs: number[][];
}
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
 * The bench workload, the same for both sides: a warm-up (batches to a queue nobody reads, then
 * the same phases at a fifth of the size; not measured: JIT compilation and connection set-up
 * are not throughput), then batched sends, consumption of what the batches filled (with ack),
 * and end-to-end latency at a paced, sustainable rate. Every phase uses fresh queues. Single
 * sends are measured apart (runSingles).
 */
export async function runWorkload(target: BenchTarget, options: WorkloadOptions, prefix: string, discard: (queue: string) => Promise<void>): Promise<RunOutput> {
  const fifth = (n: number): number => Math.max(1, Math.floor(n / 5));
  await warmUpSends(target, options, warmUpQueue(prefix));
  // Only where the workload leaves messages unread (an emulator): deleting a topic mid-run makes
  // kafkajs fail every later send of that producer (it keeps asking for the deleted topic's metadata).
  if (options.consumeMessages < options.messages) await discard(warmUpQueue(prefix));
  await measure(target, { ...options, messages: fifth(options.messages), consumeMessages: fifth(options.consumeMessages), latencyMessages: fifth(options.latencyMessages) }, queuesOf(prefix, 'warm'), discard);
  return measure(target, options, queuesOf(prefix, 'main'), discard);
}

/** The queues of one stage of a run: one per phase, named here only. */
function queuesOf(prefix: string, stage: 'warm' | 'main'): { bulk: string; paced: string } {
  return { bulk: `${prefix}-${stage}-bulk`, paced: `${prefix}-${stage}-paced` };
}

/** Every queue name a run with this prefix uses (what a broker without name listing must be told to delete). */
export const workloadQueues = (prefix: string): string[] => [
  ...(['warm', 'main'] as const).flatMap((stage) => Object.values(queuesOf(prefix, stage))),
  ...[0, 1, 2].flatMap((index) => [singlesQueue(prefix, index), ...(['warm', 'main'] as const).map((stage) => turnsQueue(prefix, stage, index))]),
  warmUpQueue(prefix),
];

/**
 * Batches sent before anything is measured, to a queue nobody reads: at least this many
 * messages, or for at least WARM_UP_SENDS_MS where the broker is slower than that. A fifth of
 * the workload was too little where the workload is small (2 000 messages on Pub/Sub: the
 * measured batches then ran partly unoptimised: 56 µs of CPU per message against 28 µs warm).
 */
const WARM_UP_SENDS = 10_000;
const WARM_UP_SENDS_MS = 2_000;

async function warmUpSends(target: BenchTarget, options: WorkloadOptions, queue: string): Promise<void> {
  const body = bodyMaker(options.sizeBytes);
  await target.setup(queue);
  const started = performance.now();
  for (let sent = 0; sent < WARM_UP_SENDS && performance.now() - started < WARM_UP_SENDS_MS; sent += options.batchSize) {
    await target.sendBatch(queue, Array.from({ length: options.batchSize }, body));
  }
}

const warmUpQueue = (prefix: string): string => `${prefix}-warm-sends`;

/** The single-send queue of the side at `index` (at most three sides). */
const singlesQueue = (prefix: string, index: number): string => `${prefix}-single-${index}`;
/** The paced queue of the side at `index` when the sides take turns (runPacedTurns). */
const turnsQueue = (prefix: string, stage: 'warm' | 'main', index: number): string => `${prefix}-turns-${stage}-${index}`;
const bodyMaker = (sizeBytes: number): (() => BenchBody) => {
  const pad = 'x'.repeat(Math.max(0, sizeBytes - 40));
  return () => ({ sentAt: now(), pad });
};

/** Sends per block of the single-send phase: each side's turn is this long. */
const SINGLES_BLOCK = 100;

/**
 * Single awaited sends, every side in this one process, taking turns a block at a time (the
 * order reversed each block), after a warm-up of as many: either side's send path runs
 * unoptimised for its first few thousand calls, and a service sending all day does not.
 *
 * Why one process: one awaited send is one round trip, and with the broker on the same machine
 * its time is mostly how fast the operating system wakes each side. On the 2-vCPU machine of
 * the README's figures, one client made 46–51 k sends/s when the kernel kept it on the
 * broker's CPU and 10–11 k when it did not, and which it did differed from one process to
 * the next. Sides taking turns in one process share whatever the kernel does.
 * Returns sends per second for each side, in order.
 */
export async function runSingles(targets: readonly BenchTarget[], options: WorkloadOptions, prefix: string): Promise<number[]> {
  const body = bodyMaker(options.sizeBytes);
  // One queue per side, each side's own names (a raw target knows nothing of another's setup).
  const queues = targets.map((_, index) => singlesQueue(prefix, index));
  await Promise.all(targets.map((target, index) => target.setup(queues[index] as string)));
  const elapsed = targets.map(() => 0);
  const turn = async (count: number, measured: boolean, reversed: boolean): Promise<void> => {
    const order = targets.map((_, index) => index);
    if (reversed) order.reverse();
    for (const index of order) {
      const target = targets[index] as BenchTarget;
      const queue = queues[index] as string;
      const started = performance.now();
      for (let i = 0; i < count; i += 1) await target.send(queue, body());
      if (measured) elapsed[index] = (elapsed[index] as number) + performance.now() - started;
    }
  };
  const blocks = Math.max(1, Math.ceil(options.singles / SINGLES_BLOCK));
  const perBlock = Math.ceil(options.singles / blocks);
  for (let block = 0; block < blocks; block += 1) await turn(perBlock, false, block % 2 === 1);
  for (let block = 0; block < blocks; block += 1) await turn(perBlock, true, block % 2 === 1);
  return elapsed.map((ms) => Math.round(((blocks * perBlock) / ms) * 1_000));
}

/**
 * End-to-end latency with every side in this one process, the sides' paced sends interleaved:
 * one message every 1/latencyRatePerSec s as in the per-process phase, each side's own in turn
 * (the order reversed every other pass, so neither side always follows the other), each side
 * consuming its own queue. Both sides then meet the same scheduler: in runs of their own, which
 * CPU the kernel kept a process on moved one run's p99 ratio between 0.65 and 2.01 (RabbitMQ)
 * and 0.94 and 1.83 (Redis) within one bench. What one process cannot keep apart: a garbage
 * collection set off by one side's allocations pauses the other's deliveries too.
 * A warm-up of a fifth as many first. Returns each side's latencies (ms, ascending), in order.
 */
export async function runPacedTurns(targets: readonly BenchTarget[], options: WorkloadOptions, prefix: string): Promise<number[][]> {
  await pacedTurns(targets, { ...options, latencyMessages: Math.max(1, Math.floor(options.latencyMessages / 5)) }, (index) => turnsQueue(prefix, 'warm', index));
  const latencies = await pacedTurns(targets, options, (index) => turnsQueue(prefix, 'main', index));
  return latencies.map((samples) => samples.map((ms) => round(ms, 3)));
}

/**
 * Paced sends through every target in turn (one: the per-process latency phase), each target
 * consuming its own queue; each target's latencies (ms, ascending, unrounded), in order.
 */
async function pacedTurns(targets: readonly BenchTarget[], options: WorkloadOptions, queueOf: (index: number) => string): Promise<number[][]> {
  const body = bodyMaker(options.sizeBytes);
  const queues = targets.map((_, index) => queueOf(index));
  await Promise.all(targets.map((target, index) => target.setup(queues[index] as string)));
  const latencies: number[][] = targets.map(() => []);
  const stops: (() => Promise<void>)[] = [];
  try {
    for (const [index, target] of targets.entries()) {
      const samples = latencies[index] as number[];
      stops.push(await target.consume(queues[index] as string, options.concurrency, (received) => void samples.push(now() - received.sentAt)));
    }
    const interval = 1_000 / options.latencyRatePerSec;
    const order = targets.map((_, index) => index);
    const reversed = [...order].reverse();
    const started = performance.now();
    let sent = 0;
    for (let pass = 0; pass < options.latencyMessages; pass += 1) {
      for (const index of pass % 2 === 0 ? order : reversed) {
        const wait = started + sent * interval - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        await (targets[index] as BenchTarget).send(queues[index] as string, body());
        sent += 1;
      }
    }
    const arrived = (): number => latencies.reduce((sum, samples) => sum + samples.length, 0);
    await waitFor(() => arrived() >= sent, options.phaseTimeoutMs, () => `${sent} paced messages (got ${latencies.map((samples) => samples.length).join(' + ')})`);
  } finally {
    for (const stop of stops) await stop();
  }
  return latencies.map((samples) => samples.sort((a, b) => a - b));
}

/**
 * `discard` deletes a queue and what it holds: the messages the consume phase left unread go
 * before the latency phase (an emulator slows down with every message it keeps: pstest
 * delivered 180 msg/s instead of 450 while 28 000 waited in another subscription).
 */
async function measure(target: BenchTarget, options: WorkloadOptions, queues: { bulk: string; paced: string }, discard: (queue: string) => Promise<void>): Promise<RunOutput> {
  const body = bodyMaker(options.sizeBytes);

  // 1. batches
  const { bulk } = queues;
  await target.setup(bulk);
  const started = performance.now();
  let cpu = process.cpuUsage();
  for (let i = 0; i < options.messages; i += options.batchSize) {
    await target.sendBatch(bulk, Array.from({ length: Math.min(options.batchSize, options.messages - i) }, body));
  }
  const batchMs = performance.now() - started;
  const produceCpuUs = cpuUsSince(cpu);

  // 2. consume what the batches filled
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
  const toConsume = Math.min(options.messages, options.consumeMessages);
  await waitFor(() => consumed >= toConsume, options.phaseTimeoutMs, () => `${toConsume} messages to be consumed (got ${consumed})`);
  const consumeCpuUs = cpuUsSince(cpu);
  // What arrives while the consumer stops is not counted.
  const counted = consumed;
  // From the first delivery: attaching (a group join, a stream) is not throughput.
  const consumeMs = Math.max(1, lastAt - firstAt);
  await stopBulk();
  if (toConsume < options.messages) await discard(bulk);

  // 3. paced end-to-end latency
  const [latencies = []] = await pacedTurns([target], options, () => queues.paced);

  return {
    // Measured apart, both sides in one process: see runSingles.
    produceSingleMsgsPerSec: Number.NaN,
    produceMsgsPerSec: Math.round((options.messages / batchMs) * 1_000),
    produceMBPerSec: round(((options.messages * options.sizeBytes) / batchMs) * 1_000 / 1_048_576, 2),
    consumeMsgsPerSec: Math.round(((counted - 1) / consumeMs) * 1_000),
    ...latencyPercentiles(latencies),
    // Measured apart too: see runPacedTurns.
    p50InTurnsMs: Number.NaN,
    p99InTurnsMs: Number.NaN,
    peakRssBytes: process.resourceUsage().maxRSS * 1_024,
    produceCpuUsPerMsg: round(produceCpuUs / options.messages, 2),
    consumeCpuUsPerMsg: round(consumeCpuUs / counted, 2),
    latencySamplesMs: latencies.map((ms) => round(ms, 3)),
  };
}
