import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { harnessFor, runConformance, selectChecks, type BackendReport, type Harness } from '@brokerkit/conformance';
import type { BenchReport } from '@brokerkit/bench';
import type { FaultsReport } from '@brokerkit/faults';
import { FAILOVER_SCENARIOS, emulatorFailures, failedChecks, toComparison, type ComparisonReport } from '../report/model.js';
import { renderHtml } from '../report/html.js';
import { renderMarkdown } from '../report/markdown.js';
import { renderMatrix, renderReasons } from '../report/terminal.js';
import { progressPrinter } from './progress.js';
import { UsageError } from './usage-error.js';

export interface CompareOptions {
  backends: string[];
  url: string[];
  only?: string[];
  json?: string;
  markdown?: string;
  html?: string;
  /** `brokerkit bench --json` files whose figures join the matrix. */
  bench?: string[];
  /** `brokerkit faults --json` files whose outcomes join the matrix. */
  faults?: string[];
  /** `brokerkit faults --json` files of clusters (node-failover, node-pause): the failover section. */
  failover?: string[];
}

/** Run the suite on each backend, print the guarantee matrix, write the reports. Exit code 1 when a check failed. */
export async function compare(options: CompareOptions): Promise<number> {
  validateChecks(options.only);
  const harnesses = resolveHarnesses(options.backends, options.url);
  const progress = progressPrinter();
  const reports: BackendReport[] = [];
  for (const harness of harnesses) {
    process.stderr.write(`running ${harness.backend} (${harness.url})\n`);
    reports.push(await runConformance(harness, { ...(options.only ? { only: options.only } : {}), onProgress: progress }));
  }
  const report = toComparison(reports);
  for (const file of options.bench ?? []) await attachBench(report, file);
  for (const file of options.faults ?? []) await attachFaults(report, file);
  for (const file of options.failover ?? []) await attachFailover(report, file);
  process.stdout.write(`${renderMatrix(report)}\n`);
  const reasons = renderReasons(report);
  if (reasons) process.stdout.write(`${reasons}\n`);
  const written: string[] = [];
  if (options.json) written.push(await write(options.json, `${JSON.stringify(report, null, 2)}\n`));
  if (options.markdown) written.push(await write(options.markdown, renderMarkdown(report)));
  if (options.html) written.push(await write(options.html, renderHtml(report)));
  if (written.length) process.stderr.write(`wrote ${written.join(', ')}\n`);
  const failures = failedChecks(report);
  const known = emulatorFailures(report);
  if (known.length) process.stderr.write(`failed as their emulator is known to (see the reasons above): ${known.join(', ')}\n`);
  process.stderr.write(failures === 0 ? `no check failed${known.length ? ' otherwise' : ''}\n` : `${failures} check(s) failed\n`);
  return failures === 0 ? 0 : 1;
}

/** Reject unknown check ids before anything runs. */
export function validateChecks(only: string[] | undefined): void {
  try {
    selectChecks(only);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The harness of one backend, its URL from `--url` or the environment; bad names are usage errors. */
export function resolveHarness(backend: string, url: string | undefined): Harness {
  return resolveHarnesses([backend], url ? [`${backend}=${url}`] : [])[0] as Harness;
}

export function resolveHarnesses(backends: string[], urlArgs: string[]): Harness[] {
  const urls = new Map<string, string>();
  for (const entry of urlArgs) {
    const match = /^([a-z0-9]+)=(.+)$/.exec(entry);
    if (!match) throw new UsageError(`--url expects NAME=URL (e.g. redis=redis://127.0.0.1:6379), got "${entry}"`);
    urls.set(match[1] as string, match[2] as string);
  }
  for (const name of urls.keys()) {
    if (!backends.includes(name)) backends = [...backends, name];
  }
  try {
    return backends.map((name) => harnessFor(name, urls.get(name)));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/**
 * Read a report another command wrote (`bench --json`, `faults --json`) and find its backend's
 * column; a backend not in this comparison is ignored, and said so.
 */
async function columnFor<T extends { backend: string }>(report: ComparisonReport, flag: string, file: string, valid: (parsed: T) => boolean): Promise<{ parsed: T; entry: ComparisonReport['backends'][string] } | undefined> {
  let parsed: T;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (error) {
    throw new UsageError(`--${flag} ${file}: not a readable JSON file (${(error as Error).message})`);
  }
  if (typeof parsed.backend !== 'string' || !valid(parsed)) throw new UsageError(`--${flag} ${file}: not written by brokerkit ${flag} --json`);
  const entry = report.backends[parsed.backend];
  if (!entry) process.stderr.write(`--${flag} ${file}: backend ${parsed.backend} is not in this comparison; ignored\n`);
  return entry ? { parsed, entry } : undefined;
}

async function attachBench(report: ComparisonReport, file: string): Promise<void> {
  const found = await columnFor<BenchReport>(report, 'bench', file, (bench) => Boolean(bench.sdk));
  if (!found) return;
  const { parsed: bench, entry } = found;
  entry.cost = { messages: bench.messages, sizeBytes: bench.sizeBytes, sdk: bench.sdk, raw: bench.raw, ratios: bench.ratios };
}

async function attachFaults(report: ComparisonReport, file: string): Promise<void> {
  const found = await columnFor<FaultsReport>(report, 'faults', file, (faults) => Boolean(faults.scenarios));
  if (!found) return;
  found.entry.faults = Object.fromEntries(
    Object.entries(found.parsed.scenarios).map(([id, r]) => [id, { status: r.status, lost: r.lost, duplicates: r.duplicates, sent: r.sent, recoveryMs: r.recoveryMs, ...(r.reason ? { reason: r.reason } : {}), ...(id === 'crash-recovery' ? { details: r.details } : {}) }]),
  );
}

/**
 * A cluster's failover figures: a faults report with node-failover or node-pause in it. The
 * cluster is named by the report's `cluster` (the cluster tests write it), else after the backend.
 */
async function attachFailover(report: ComparisonReport, file: string): Promise<void> {
  let parsed: FaultsReport & { cluster?: string };
  try {
    parsed = JSON.parse(await readFile(file, 'utf8')) as FaultsReport & { cluster?: string };
  } catch (error) {
    throw new UsageError(`--failover ${file}: not a readable JSON file (${(error as Error).message})`);
  }
  const ran = FAILOVER_SCENARIOS.filter((id) => parsed.scenarios?.[id] && parsed.scenarios[id].status !== 'not-run');
  if (typeof parsed.backend !== 'string' || ran.length === 0) throw new UsageError(`--failover ${file}: no node-failover or node-pause figures (write them with brokerkit faults --only node-failover,node-pause --nodes-command … --json)`);
  const cluster = parsed.cluster ?? `${parsed.backend} cluster`;
  report.failover = { ...report.failover, [cluster]: { backend: parsed.backend, scenarios: Object.fromEntries(ran.map((id) => [id, parsed.scenarios[id]])) } };
}

/** Write a report file, creating its folder; returns the path. */
export async function write(path: string, content: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return path;
}
