import { spawn } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RAW_BACKENDS } from './raw/index.js';
import type { RunFigures, WorkloadOptions } from './workload.js';

export interface BenchOptions {
  backend: string;
  url: string;
  messages?: number;
  sizeBytes?: number;
  concurrency?: number;
  /** SDK/raw pairs; the order alternates each round. */
  rounds?: number;
  onProgress?: (line: string) => void;
}

export interface BenchReport {
  backend: string;
  url: string;
  messages: number;
  sizeBytes: number;
  concurrency: number;
  rounds: number;
  generatedAt: string;
  /** Median over rounds. */
  sdk: RunFigures;
  raw: RunFigures | null;
  /** SDK/raw; for p99, SDK p99 / raw p99 (lower is better there). */
  ratios: { produce: number; produceSingle: number; consume: number; p99: number } | null;
  runs: { side: 'sdk' | 'raw'; round: number; figures: RunFigures }[];
}

/** Emulators are slower by orders of magnitude: their default workloads are smaller. */
const DEFAULT_MESSAGES: Record<string, number> = { sqs: 300, pubsub: 2_000 };

const worker = fileURLToPath(new URL(`./worker${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

function runSide(side: 'sdk' | 'raw', options: Required<Omit<BenchOptions, 'onProgress'>>, workload: WorkloadOptions): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, worker, side, options.backend, options.url, JSON.stringify(workload)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as RunFigures);
      else reject(new Error(`${side} run on ${options.backend} failed (exit ${code}): ${err.trim().split('\n').slice(-3).join(' | ') || out.trim()}`));
    });
  });
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** Rates and bytes as whole numbers, milliseconds and MB/s to two decimals. */
const tidy = (key: keyof RunFigures, value: number): number => (/Ms$|MBPerSec$/.test(key) ? Math.round(value * 100) / 100 : Math.round(value));

function medianFigures(runs: RunFigures[]): RunFigures {
  const keys = Object.keys(runs[0] as RunFigures) as (keyof RunFigures)[];
  return Object.fromEntries(keys.map((key) => [key, tidy(key, median(runs.map((run) => run[key])))])) as unknown as RunFigures;
}

const ratio = (a: number, b: number): number => (b > 0 ? Math.round((a / b) * 100) / 100 : Number.NaN);

/**
 * Run the same workload through brokerkit and through the broker's raw client, each in its
 * own process, alternating the order each round; report medians and SDK/raw ratios.
 */
export async function runBench(input: BenchOptions): Promise<BenchReport> {
  const options = {
    backend: input.backend,
    url: input.url,
    messages: input.messages ?? DEFAULT_MESSAGES[input.backend] ?? 5_000,
    sizeBytes: input.sizeBytes ?? 256,
    concurrency: input.concurrency ?? 16,
    rounds: input.rounds ?? 2,
  };
  const workload: WorkloadOptions = {
    messages: options.messages,
    sizeBytes: options.sizeBytes,
    concurrency: options.concurrency,
    singles: Math.min(options.messages, 500),
    batchSize: 100,
    latencyMessages: Math.min(options.messages, 300),
    latencyRatePerSec: 100,
    phaseTimeoutMs: 180_000,
  };
  const hasRaw = RAW_BACKENDS.includes(options.backend);
  const sides: ('sdk' | 'raw')[] = hasRaw ? ['sdk', 'raw'] : ['sdk'];
  const runs: BenchReport['runs'] = [];
  const total = options.rounds * sides.length;
  for (let round = 1; round <= options.rounds; round += 1) {
    const order = round % 2 === 1 ? sides : [...sides].reverse();
    for (const side of order) {
      input.onProgress?.(`${options.backend} [${runs.length + 1}/${total}] ${side} round ${round}…`);
      const figures = await runSide(side, options, workload);
      runs.push({ side, round, figures });
      input.onProgress?.(
        `${options.backend} [${runs.length}/${total}] ${side} round ${round}: produce ${figures.produceMsgsPerSec} msg/s (single ${figures.produceSingleMsgsPerSec}), consume ${figures.consumeMsgsPerSec} msg/s, p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms, peak RSS ${Math.round(figures.peakRssBytes / 1_048_576)} MiB`,
      );
    }
  }
  const sdk = medianFigures(runs.filter((run) => run.side === 'sdk').map((run) => run.figures));
  const raw = hasRaw ? medianFigures(runs.filter((run) => run.side === 'raw').map((run) => run.figures)) : null;
  return {
    backend: options.backend,
    url: options.url,
    messages: options.messages,
    sizeBytes: options.sizeBytes,
    concurrency: options.concurrency,
    rounds: options.rounds,
    generatedAt: new Date().toISOString(),
    sdk,
    raw,
    ratios: raw
      ? {
          produce: ratio(sdk.produceMsgsPerSec, raw.produceMsgsPerSec),
          produceSingle: ratio(sdk.produceSingleMsgsPerSec, raw.produceSingleMsgsPerSec),
          consume: ratio(sdk.consumeMsgsPerSec, raw.consumeMsgsPerSec),
          p99: ratio(sdk.p99Ms, raw.p99Ms),
        }
      : null,
    runs,
  };
}
