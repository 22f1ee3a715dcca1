import { writeFile } from 'node:fs/promises';
import { runConformance } from '@brokerkit/conformance';
import pc from 'picocolors';
import { resolveHarness, validateChecks } from './compare.js';
import { progressPrinter } from './progress.js';

export interface ConformanceOptions {
  backend: string;
  url?: string;
  only?: string[];
  json?: string;
}

/** The suite on one backend, each check with its figures. */
export async function conformance(options: ConformanceOptions): Promise<number> {
  validateChecks(options.only);
  const harness = resolveHarness(options.backend, options.url);
  const report = await runConformance(harness, { ...(options.only ? { only: options.only } : {}), onProgress: progressPrinter() });
  if (report.error) process.stdout.write(`${pc.red('unreachable')}: ${report.error}\n`);
  for (const check of report.checks) {
    const figures = Object.entries(check.figures).map(([k, v]) => `${k}=${v}`).join('  ');
    process.stdout.write(`${check.status.padEnd(11)} ${check.id.padEnd(22)} ${pc.dim(figures)}${check.reason ? `\n${' '.repeat(12)}${check.reason}` : ''}\n`);
  }
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const passed = report.checks.filter((c) => c.status === 'pass').length;
  const unsupported = report.checks.length - failed - passed;
  process.stdout.write(`${passed} passed, ${failed} failed, ${unsupported} unsupported\n`);
  return failed === 0 ? 0 : 1;
}
