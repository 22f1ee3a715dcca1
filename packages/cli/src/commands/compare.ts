import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { harnessFor, runConformance, selectChecks, type BackendReport, type Harness } from '@brokerkit/conformance';
import type { BenchReport } from '@brokerkit/bench';
import type { FaultsReport } from '@brokerkit/faults';
import { failedChecks, toComparison, type ComparisonReport } from '../report/model.js';
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
  process.stdout.write(`${renderMatrix(report)}\n`);
  const reasons = renderReasons(report);
  if (reasons) process.stdout.write(`${reasons}\n`);
  const written: string[] = [];
  if (options.json) written.push(await write(options.json, `${JSON.stringify(report, null, 2)}\n`));
  if (options.markdown) written.push(await write(options.markdown, renderMarkdown(report)));
  if (options.html) written.push(await write(options.html, renderHtml(report)));
  if (written.length) process.stderr.write(`wrote ${written.join(', ')}\n`);
  const failures = failedChecks(report);
  process.stderr.write(failures === 0 ? 'no check failed\n' : `${failures} check(s) failed\n`);
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

/** Add a bench file's figures to its backend's column (a backend not compared is ignored, and said so). */
async function attachBench(report: ComparisonReport, file: string): Promise<void> {
  let bench: BenchReport;
  try {
    bench = JSON.parse(await readFile(file, 'utf8')) as BenchReport;
  } catch (error) {
    throw new UsageError(`--bench ${file}: not a readable bench JSON file (${(error as Error).message})`);
  }
  if (typeof bench.backend !== 'string' || !bench.sdk) throw new UsageError(`--bench ${file}: not written by brokerkit bench --json`);
  const entry = report.backends[bench.backend];
  if (!entry) {
    process.stderr.write(`--bench ${file}: backend ${bench.backend} is not in this comparison; ignored\n`);
    return;
  }
  entry.cost = { messages: bench.messages, sizeBytes: bench.sizeBytes, sdk: bench.sdk, raw: bench.raw, ratios: bench.ratios };
}

/** Add a faults file's scenario outcomes to its backend's column. */
async function attachFaults(report: ComparisonReport, file: string): Promise<void> {
  let faults: FaultsReport;
  try {
    faults = JSON.parse(await readFile(file, 'utf8')) as FaultsReport;
  } catch (error) {
    throw new UsageError(`--faults ${file}: not a readable faults JSON file (${(error as Error).message})`);
  }
  if (typeof faults.backend !== 'string' || !faults.scenarios) throw new UsageError(`--faults ${file}: not written by brokerkit faults --json`);
  const entry = report.backends[faults.backend];
  if (!entry) {
    process.stderr.write(`--faults ${file}: backend ${faults.backend} is not in this comparison; ignored\n`);
    return;
  }
  entry.faults = Object.fromEntries(
    Object.entries(faults.scenarios).map(([id, r]) => [id, { status: r.status, lost: r.lost, duplicates: r.duplicates, sent: r.sent, ...(r.reason ? { reason: r.reason } : {}) }]),
  );
}

async function write(path: string, content: string): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
  return path;
}
