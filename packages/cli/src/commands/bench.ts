import { runBatchBench, runBench, type BatchBenchReport, type BenchReport, type Ratios, type RunFigures } from '@brokerkit/bench';
import Table from 'cli-table3';
import pc from 'picocolors';
import { resolveHarness, write } from './compare.js';
import { wholeNumber } from './usage-error.js';

export interface BenchCommandOptions {
  backend: string;
  url?: string;
  messages?: string;
  size?: string;
  concurrency?: string;
  rounds?: string;
  sameMetadata?: boolean;
  /** A batch handler's maxMessages: measure batch against single handlers instead. */
  batch?: string;
  json?: string;
}


/** `ratio`: the row's paired per-round ratio in the report (others divide the medians). */
const ROWS: { label: string; key: keyof RunFigures; unit: string; lowerIsBetter?: boolean; ratio?: keyof Ratios }[] = [
  { label: 'produce, batches of 100', key: 'produceMsgsPerSec', unit: 'msg/s', ratio: 'produce' },
  { label: 'produce, batches of 100', key: 'produceMBPerSec', unit: 'MB/s', ratio: 'produce' }, // the same runs as msg/s, in bytes
  { label: 'produce, single awaited sends', key: 'produceSingleMsgsPerSec', unit: 'msg/s', ratio: 'produceSingle' },
  { label: 'consume with ack', key: 'consumeMsgsPerSec', unit: 'msg/s', ratio: 'consume' },
  { label: 'latency p50 (paced)', key: 'p50Ms', unit: 'ms', lowerIsBetter: true },
  { label: 'latency p95 (paced)', key: 'p95Ms', unit: 'ms', lowerIsBetter: true },
  { label: 'latency p99 (paced)', key: 'p99Ms', unit: 'ms', lowerIsBetter: true, ratio: 'p99' },
  { label: 'latency p50, sides taking turns', key: 'p50InTurnsMs', unit: 'ms', lowerIsBetter: true },
  { label: 'latency p99, sides taking turns', key: 'p99InTurnsMs', unit: 'ms', lowerIsBetter: true, ratio: 'p99InTurns' },
  { label: 'CPU per message produced', key: 'produceCpuUsPerMsg', unit: 'µs', lowerIsBetter: true, ratio: 'produceCpu' },
  { label: 'CPU per message consumed', key: 'consumeCpuUsPerMsg', unit: 'µs', lowerIsBetter: true, ratio: 'consumeCpu' },
  { label: 'peak memory (RSS)', key: 'peakRssBytes', unit: 'MiB', lowerIsBetter: true },
];

const show = (value: number, unit: string): string => (unit === 'MiB' ? `${Math.round(value / 1_048_576)} MiB` : `${value} ${unit}`);

/** The ratio cell (coloured against the project's bar) and its lowest–highest per-round range. */
function ratioCells(row: (typeof ROWS)[number], sdk: number, raw: number | undefined, ratios: Ratios | null | undefined, ranges: Record<keyof Ratios, [number, number]> | null | undefined): [string, string] {
  if (raw === undefined || raw <= 0) return ['—', ''];
  const value = row.ratio && ratios ? ratios[row.ratio] : Math.round((sdk / raw) * 100) / 100;
  const good = row.lowerIsBetter ? value <= 1.2 : value >= 0.95;
  const spread = row.ratio ? ranges?.[row.ratio] : undefined;
  return [(good ? pc.green : pc.yellow)(value.toFixed(2)), spread ? pc.dim(`${spread[0].toFixed(2)}–${spread[1].toFixed(2)}`) : ''];
}

/**
 * SDK against raw client, one row per figure (medians over rounds); the ratio is coloured
 * against the project's bar, with the lowest–highest per-round ratio beside it. With
 * `--same-metadata`, two more columns: the raw client carrying brokerkit's metadata, and
 * brokerkit against that.
 */
export function renderBench(report: BenchReport): string {
  const meta = report.rawSameMetadata;
  const head = [`${report.backend} (${report.messages} msgs${report.consumeMessages < report.messages ? `, ${report.consumeMessages} of them consumed` : ''}, ${report.sizeBytes} B, concurrency ${report.concurrency}, ${report.rounds} rounds)`, 'brokerkit', 'raw client', 'brokerkit / raw', 'range over rounds'];
  if (meta) head.push('raw + brokerkit metadata', 'brokerkit / that', 'range');
  const table = new Table({ head: head.map((text, index) => pc.bold(index === 0 ? pc.cyan(text) : text)), style: { head: [], border: [] } });
  for (const row of ROWS) {
    const sdk = report.sdk[row.key];
    const raw = report.raw?.[row.key];
    const cells = [row.label, show(sdk, row.unit), raw === undefined ? pc.dim('no raw client') : show(raw, row.unit), ...ratioCells(row, sdk, raw, report.ratios, report.ratioRanges)];
    if (meta) cells.push(show(meta[row.key], row.unit), ...ratioCells(row, sdk, meta[row.key], report.ratiosSameMetadata, report.ratioRangesSameMetadata));
    table.push(cells);
  }
  return table.toString();
}

/** `--messages`: one count, or several separated by commas (one bench per backlog). */
function messageCounts(value: string | undefined): (number | undefined)[] {
  if (value === undefined) return [undefined];
  return value.split(',').map((part) => wholeNumber('messages', part.trim()));
}

const micros = (value: number): string => `${value.toFixed(2)} µs`;

/**
 * One line per backlog: what a message costs as the backlog grows, brokerkit against the raw
 * side, and consume CPU against that at the smallest backlog (flat cost stays near 1).
 */
export function renderBacklogs(reports: readonly BenchReport[]): string {
  const head = ['backlog', 'produce', 'consume', 'CPU/msg produced (raw, +layer)', 'CPU/msg consumed (raw, +layer)', 'consume CPU vs smallest'];
  const table = new Table({ head: head.map((text, index) => pc.bold(index === 0 ? pc.cyan(`${reports[0]?.backend ?? ''} ${text}`) : text)), style: { head: [], border: [] } });
  const base = reports[0]?.sdk.consumeCpuUsPerMsg ?? 0;
  for (const report of reports) {
    const { sdk, raw } = report;
    const plus = (key: 'produceCpuUsPerMsg' | 'consumeCpuUsPerMsg'): string => (raw ? ` (${micros(raw[key])}, +${micros(sdk[key] - raw[key])})` : '');
    table.push([
      String(report.messages),
      `${sdk.produceMsgsPerSec} msg/s`,
      `${sdk.consumeMsgsPerSec} msg/s`,
      `${micros(sdk.produceCpuUsPerMsg)}${plus('produceCpuUsPerMsg')}`,
      `${micros(sdk.consumeCpuUsPerMsg)}${plus('consumeCpuUsPerMsg')}`,
      base > 0 ? `${(sdk.consumeCpuUsPerMsg / base).toFixed(2)}×` : '—',
    ]);
  }
  return table.toString();
}

/** Batch handlers against single ones: one row per handler call's wait. */
export function renderBatchBench(report: BatchBenchReport): string {
  const title = `${report.backend} (${report.messages} msgs, concurrency ${report.concurrency}, batches of ≤ ${report.batch}, ${report.rounds} rounds)`;
  const head = [title, 'single handlers', 'batch handler', 'batch / single', 'range over rounds', 'mean batch'];
  const table = new Table({ head: head.map((text, index) => pc.bold(index === 0 ? pc.cyan(text) : text)), style: { head: [], border: [] } });
  for (const row of report.rows) {
    table.push([
      row.callMs === 0 ? 'consume, handler does nothing' : `consume, handler waits ${row.callMs} ms a call`,
      `${row.singleMsgsPerSec} msg/s`,
      `${row.batchMsgsPerSec} msg/s`,
      (row.ratio >= 0.95 ? pc.green : pc.yellow)(row.ratio.toFixed(2)),
      pc.dim(`${row.range[0].toFixed(2)}–${row.range[1].toFixed(2)}`),
      String(row.meanBatch),
    ]);
  }
  return table.toString();
}

export async function bench(options: BenchCommandOptions): Promise<number> {
  const { url } = resolveHarness(options.backend, options.url);
  if (options.batch !== undefined) {
    const report = await runBatchBench({
      backend: options.backend,
      url,
      batch: wholeNumber('batch', options.batch) as number,
      messages: wholeNumber('messages', options.messages),
      concurrency: wholeNumber('concurrency', options.concurrency),
      rounds: wholeNumber('rounds', options.rounds),
      onProgress: (line) => process.stderr.write(`${pc.dim(line)}\n`),
    });
    process.stdout.write(`${renderBatchBench(report)}\n`);
    if (options.json) process.stdout.write(`wrote ${await write(options.json, `${JSON.stringify(report, null, 2)}\n`)}\n`);
    return 0;
  }
  const counts = messageCounts(options.messages);
  const reports: BenchReport[] = [];
  for (const messages of counts) {
    const report = await runBench({
      backend: options.backend,
      url,
      messages,
      sizeBytes: wholeNumber('size', options.size),
      concurrency: wholeNumber('concurrency', options.concurrency),
      rounds: wholeNumber('rounds', options.rounds),
      sameMetadata: options.sameMetadata === true,
      onProgress: (line) => process.stderr.write(`${pc.dim(line)}\n`),
    });
    reports.push(report);
    process.stdout.write(`${renderBench(report)}\n`);
  }
  if (reports.length > 1) process.stdout.write(`${renderBacklogs(reports)}\n`);
  // Several backlogs: the last one is the report (what compare --bench reads), with all of them beside it.
  const last = reports[reports.length - 1] as BenchReport;
  const written = reports.length > 1 ? { ...last, backlogs: reports } : last;
  if (options.json) process.stdout.write(`wrote ${await write(options.json, `${JSON.stringify(written, null, 2)}\n`)}\n`);
  return 0;
}
