import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RAW_BACKENDS } from './raw/index.js';
import { latencyPercentiles, median, type RunFigures, type RunOutput, type TurnsOutput, type WorkloadOptions } from './workload.js';

export interface BenchOptions {
  backend: string;
  url: string;
  messages?: number;
  sizeBytes?: number;
  concurrency?: number;
  /** SDK/raw pairs; the order alternates each round. */
  rounds?: number;
  /**
   * Also run the raw client sending the metadata brokerkit sends (its content type, and an id
   * where the broker does not name messages): what the portable layer costs apart from what it
   * carries.
   */
  sameMetadata?: boolean;
  onProgress?: (line: string) => void;
}

export interface BenchReport {
  backend: string;
  url: string;
  /** Messages sent in batches; the consume phase reads the first `consumeMessages` of them. */
  messages: number;
  consumeMessages: number;
  sizeBytes: number;
  concurrency: number;
  rounds: number;
  generatedAt: string;
  /**
   * Median over rounds; the latency percentiles are over every round's paced samples pooled
   * (see poolLatencies).
   */
  sdk: RunFigures;
  raw: RunFigures | null;
  /**
   * SDK/raw, the median over rounds of each round's ratio (the two runs of a round are
   * neighbours in time, so a machine that slows down between rounds cancels out); for CPU,
   * SDK / raw too (lower is better there). p99 is the pooled brokerkit p99 / the pooled raw p99.
   */
  ratios: Ratios | null;
  /** Lowest and highest per-round ratio: how far one run can be trusted on this machine. */
  ratioRanges: Record<keyof Ratios, [number, number]> | null;
  /** With `sameMetadata`: the raw client sending brokerkit's metadata too, and SDK / that. */
  rawSameMetadata?: RunFigures;
  ratiosSameMetadata?: Ratios;
  ratioRangesSameMetadata?: Record<keyof Ratios, [number, number]>;
  runs: { side: Side; round: number; figures: RunFigures }[];
}

/** brokerkit; the raw client as a plain user runs it; the raw client carrying brokerkit's metadata. */
export type Side = 'sdk' | 'raw' | 'raw-meta';

export interface Ratios {
  produce: number;
  produceSingle: number;
  consume: number;
  p99: number;
  /** The sides taking turns in one process: see runPacedTurns. */
  p99InTurns: number;
  produceCpu: number;
  consumeCpu: number;
}

/**
 * Default workload per backend: large enough that each measured phase lasts about a second
 * or more (a phase of a few tens of ms measures the garbage collector's timing, not the
 * client); the emulators are slower by orders of magnitude, so theirs are smaller. The paced
 * rate is one each backend sustains with awaited single sends.
 */
interface Profile {
  messages: number;
  consumeMessages?: number;
  latencyMessages: number;
  latencyRatePerSec: number;
}

const PROFILES: Record<string, Profile> = {
  memory: { messages: 50_000, latencyMessages: 1_000, latencyRatePerSec: 200 },
  redis: { messages: 50_000, latencyMessages: 1_000, latencyRatePerSec: 200 },
  rabbitmq: { messages: 20_000, latencyMessages: 1_000, latencyRatePerSec: 200 },
  // kafkajs decodes a whole fetch (up to 512 KiB per partition, ~10 000 records here) before
  // the first record reaches a handler, and that work happens before the clock starts: a
  // longer phase keeps it a small part of what is measured.
  kafka: { messages: 100_000, latencyMessages: 1_000, latencyRatePerSec: 200 },
  sqs: { messages: 300, latencyMessages: 200, latencyRatePerSec: 20 },
  // pstest takes sends at ~30 000/s but delivers ~450/s: the batches fill 30 000 (a second),
  // of which the consume phase reads the first 2 000 (a few seconds).
  pubsub: { messages: 30_000, consumeMessages: 2_000, latencyMessages: 500, latencyRatePerSec: 100 },
  nats: { messages: 20_000, latencyMessages: 1_000, latencyRatePerSec: 200 },
};
const FALLBACK_PROFILE: Profile = { messages: 5_000, latencyMessages: 300, latencyRatePerSec: 100 };

const here = fileURLToPath(import.meta.url);
/**
 * Both sides run as compiled JavaScript, as users run them: from this package's `dist/` even
 * when the CLI runs from source. A TypeScript loader (tsx) would tax brokerkit's side only — its
 * transform wraps every closure created per message in a naming helper that compiled code
 * does not have, while the raw clients are plain JavaScript either way.
 */
const fromSource = extname(here) === '.ts';
const worker = fromSource ? join(dirname(here), '..', 'dist', 'worker.js') : join(dirname(here), 'worker.js');

/** Run `node ARGS` to its end, collecting what it prints. */
function runNode(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    // 'close', not 'exit': output may still be arriving when the process exits.
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** From a source checkout: bring the workspace's compiled output up to date (incremental, ~1 s when nothing changed). */
async function ensureCompiled(onProgress?: (line: string) => void): Promise<void> {
  if (!fromSource) return;
  const root = join(dirname(here), '..', '..', '..');
  const require = createRequire(import.meta.url);
  const tsc = join(dirname(require.resolve('typescript/package.json', { paths: [root] })), 'bin', 'tsc');
  onProgress?.('compiling the workspace (tsc -b) so the bench measures the JavaScript users run…');
  const { code, out, err } = await runNode([tsc, '-b', join(root, 'tsconfig.build.json')]);
  if (code !== 0) throw new Error(`compiling the workspace failed (tsc -b exit ${code}): ${`${out}${err}`.trim().split('\n').slice(0, 5).join(' | ')}`);
}

async function runWorker<T>(mode: string, options: Required<Omit<BenchOptions, 'onProgress'>>, workload: WorkloadOptions): Promise<T> {
  const { code, out, err } = await runNode([worker, mode, options.backend, options.url, JSON.stringify(workload)]);
  const line = out.trim().split('\n').pop() ?? '';
  if (code === 0 && /^[{[]/.test(line)) return JSON.parse(line) as T;
  throw new Error(`${mode} run on ${options.backend} failed (exit ${code}): ${failureOf(err) || out.trim()}`);
}

/**
 * What a failed run's stderr says: the thrown error's line (Node prints the source line and a
 * caret above it, and its version below the stack), then the last lines before Node's own.
 */
export function failureOf(stderr: string): string {
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !/^Node\.js v\d/.test(line));
  const thrown = lines.find((line) => /^(\w+Error|Error)\b/.test(line));
  const tail = lines.slice(-3);
  return [...(thrown === undefined || tail.includes(thrown) ? [] : [thrown]), ...tail].join(' | ');
}

/** Rates and bytes as whole numbers, milliseconds and MB/s to two decimals. */
const tidy = (key: keyof RunFigures, value: number): number => (/Ms$|MBPerSec$|PerMsg$/.test(key) ? Math.round(value * 100) / 100 : Math.round(value));

function medianFigures(runs: RunFigures[]): RunFigures {
  const keys = Object.keys(runs[0] as RunFigures) as (keyof RunFigures)[];
  return Object.fromEntries(keys.map((key) => [key, tidy(key, median(runs.map((run) => run[key])))])) as unknown as RunFigures;
}

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

/**
 * Each side's latency percentiles over the paced samples of all its rounds. One run's p99 of
 * 1 000 samples is its 10th-highest (of 200 on SQS, its 2nd-highest), and it moved between
 * rounds of one bench by up to 2× on brokers sharing this machine's cores; the pooled samples
 * of every round estimate the same tail from three times as many.
 */
export function poolLatencies(runs: readonly { side: Side; samplesMs: readonly number[] }[]): Map<Side, Pick<RunFigures, 'p50Ms' | 'p95Ms' | 'p99Ms'>> {
  const bySide = new Map<Side, number[]>();
  for (const { side, samplesMs } of runs) {
    const samples = bySide.get(side) ?? [];
    samples.push(...samplesMs);
    bySide.set(side, samples);
  }
  const pooled = new Map<Side, Pick<RunFigures, 'p50Ms' | 'p95Ms' | 'p99Ms'>>();
  for (const [side, samples] of bySide) {
    if (samples.length === 0) continue;
    pooled.set(side, latencyPercentiles(samples.sort((a, b) => a - b)));
  }
  return pooled;
}

/** Each round's SDK/baseline ratios. */
function pairedRatios(runs: BenchReport['runs'], baseline: Side): Ratios[] {
  const rounds = new Set(runs.map((run) => run.round));
  return [...rounds].flatMap((round) => {
    const sdk = runs.find((run) => run.round === round && run.side === 'sdk')?.figures;
    const raw = runs.find((run) => run.round === round && run.side === baseline)?.figures;
    if (!sdk || !raw) return [];
    return [
      {
        produce: ratio(sdk.produceMsgsPerSec, raw.produceMsgsPerSec),
        produceSingle: ratio(sdk.produceSingleMsgsPerSec, raw.produceSingleMsgsPerSec),
        consume: ratio(sdk.consumeMsgsPerSec, raw.consumeMsgsPerSec),
        p99: ratio(sdk.p99Ms, raw.p99Ms),
        p99InTurns: ratio(sdk.p99InTurnsMs, raw.p99InTurnsMs),
        produceCpu: ratio(sdk.produceCpuUsPerMsg, raw.produceCpuUsPerMsg),
        consumeCpu: ratio(sdk.consumeCpuUsPerMsg, raw.consumeCpuUsPerMsg),
      },
    ];
  });
}

function summarise(perRound: Ratios[], pick: (values: number[]) => number): Ratios {
  const keys = Object.keys(perRound[0] as Ratios) as (keyof Ratios)[];
  return Object.fromEntries(keys.map((key) => [key, Math.round(pick(perRound.map((r) => r[key])) * 100) / 100])) as unknown as Ratios;
}

function rangeOf(perRound: Ratios[]): Record<keyof Ratios, [number, number]> {
  const keys = Object.keys(perRound[0] as Ratios) as (keyof Ratios)[];
  return Object.fromEntries(
    keys.map((key) => {
      const values = perRound.map((r) => r[key]);
      return [key, [Math.min(...values), Math.max(...values)]];
    }),
  ) as Record<keyof Ratios, [number, number]>;
}

/**
 * Run the same workload through brokerkit and through the broker's raw client, each in its
 * own process, alternating the order each round; report medians and SDK/raw ratios.
 */
export async function runBench(input: BenchOptions): Promise<BenchReport> {
  const profile = PROFILES[input.backend] ?? FALLBACK_PROFILE;
  const options = {
    backend: input.backend,
    url: input.url,
    messages: input.messages ?? profile.messages,
    sizeBytes: input.sizeBytes ?? 256,
    concurrency: input.concurrency ?? 16,
    rounds: input.rounds ?? 3,
    sameMetadata: input.sameMetadata ?? false,
  };
  const workload: WorkloadOptions = {
    messages: options.messages,
    consumeMessages: Math.min(options.messages, profile.consumeMessages ?? options.messages),
    sizeBytes: options.sizeBytes,
    concurrency: options.concurrency,
    singles: Math.min(options.messages, 2_000),
    batchSize: 100,
    latencyMessages: Math.min(options.messages, profile.latencyMessages),
    latencyRatePerSec: profile.latencyRatePerSec,
    phaseTimeoutMs: 180_000,
  };
  const hasRaw = RAW_BACKENDS.includes(options.backend);
  const sides: Side[] = hasRaw ? (options.sameMetadata ? ['sdk', 'raw', 'raw-meta'] : ['sdk', 'raw']) : ['sdk'];
  await ensureCompiled(input.onProgress);
  const runs: BenchReport['runs'] = [];
  const latencies: { side: Side; samplesMs: number[] }[] = [];
  const latenciesInTurns: { side: Side; samplesMs: number[] }[] = [];
  const total = options.rounds * (sides.length + 1);
  let step = 0;
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    const ofRound: { side: Side; round: number; figures: RunFigures }[] = [];
    for (const side of order) {
      step += 1;
      input.onProgress?.(`${options.backend} [${step}/${total}] ${side} round ${round}…`);
      const { latencySamplesMs, ...figures } = await runWorker<RunOutput>(side, options, workload);
      latencies.push({ side, samplesMs: latencySamplesMs });
      ofRound.push({ side, round, figures });
      input.onProgress?.(
        `${options.backend} [${step}/${total}] ${side} round ${round}: produce ${figures.produceMsgsPerSec} msg/s, consume ${figures.consumeMsgsPerSec} msg/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, CPU ${figures.produceCpuUsPerMsg}/${figures.consumeCpuUsPerMsg} µs per message produced/consumed, peak RSS ${Math.round(figures.peakRssBytes / 1_048_576)} MiB`,
      );
    }
    // Single awaited sends and paced latency again, the sides taking turns in one process
    // (see runSingles and runPacedTurns).
    step += 1;
    input.onProgress?.(`${options.backend} [${step}/${total}] single sends and paced latency, ${order.length > 1 ? `${order.join(' / ')} taking turns` : order[0]}, round ${round}…`);
    const turns = await runWorker<TurnsOutput>(`turns:${order.join(',')}`, options, workload);
    // The worker answers in the order it was given: this round's.
    ofRound.forEach((run, index) => {
      const samples = turns.latencySamplesMs[index] as number[];
      latenciesInTurns.push({ side: run.side, samplesMs: samples });
      const { p50Ms, p99Ms } = latencyPercentiles(samples);
      run.figures.produceSingleMsgsPerSec = turns.singles[index] as number;
      run.figures.p50InTurnsMs = p50Ms;
      run.figures.p99InTurnsMs = p99Ms;
    });
    input.onProgress?.(
      `${options.backend} [${step}/${total}] taking turns, round ${round}: ${ofRound.map(({ side, figures }) => `${side} ${figures.produceSingleMsgsPerSec} single sends/s, p50 ${figures.p50InTurnsMs} ms, p99 ${figures.p99InTurnsMs} ms`).join('; ')}`,
    );
    runs.push(...ofRound);
  }
  const pooled = poolLatencies(latencies);
  const pooledInTurns = poolLatencies(latenciesInTurns);
  const summaryOf = (side: Side): RunFigures => {
    const inTurns = pooledInTurns.get(side);
    return {
      ...medianFigures(runs.filter((run) => run.side === side).map((run) => run.figures)),
      ...pooled.get(side),
      ...(inTurns ? { p50InTurnsMs: inTurns.p50Ms, p99InTurnsMs: inTurns.p99Ms } : {}),
    };
  };
  const sdk = summaryOf('sdk');
  const raw = hasRaw ? summaryOf('raw') : null;
  const perRound = hasRaw ? pairedRatios(runs, 'raw') : [];
  const perRoundSameMetadata = sides.includes('raw-meta') ? pairedRatios(runs, 'raw-meta') : [];
  const withPooledP99 = (ratios: Ratios, baseline: RunFigures): Ratios => ({ ...ratios, p99: ratio(sdk.p99Ms, baseline.p99Ms), p99InTurns: ratio(sdk.p99InTurnsMs, baseline.p99InTurnsMs) });
  const rawSameMetadata = perRoundSameMetadata.length > 0 ? summaryOf('raw-meta') : undefined;
  const sameMetadata =
    rawSameMetadata !== undefined
      ? {
          rawSameMetadata,
          ratiosSameMetadata: withPooledP99(summarise(perRoundSameMetadata, median), rawSameMetadata),
          ratioRangesSameMetadata: rangeOf(perRoundSameMetadata),
        }
      : {};
  return {
    backend: options.backend,
    url: options.url,
    messages: options.messages,
    consumeMessages: workload.consumeMessages,
    sizeBytes: options.sizeBytes,
    concurrency: options.concurrency,
    rounds: options.rounds,
    generatedAt: new Date().toISOString(),
    sdk,
    raw,
    ratios: perRound.length > 0 && raw !== null ? withPooledP99(summarise(perRound, median), raw) : null,
    ratioRanges: perRound.length > 0 ? rangeOf(perRound) : null,
    ...sameMetadata,
    runs,
  };
}
