import Table from 'cli-table3';
import pc from 'picocolors';
import type { CheckStatus } from '@brokerkit/conformance';
import { CAPABILITY_ROWS, COST_ROWS, FAILOVER_HEAD, FAULT_SCENARIOS, KEY_FIGURES, checkIds, costText, failoverRows, faultText, figureText, hasCost, hasFailover, hasFaults, type ComparisonReport } from './model.js';

const SYMBOL: Record<CheckStatus, string> = { pass: pc.green('✔ pass'), fail: pc.red('✘ FAIL'), unsupported: pc.yellow('– unsupported') };

/** The guarantee matrix for a terminal: checks and figures as rows, backends as columns. */
export function renderMatrix(report: ComparisonReport): string {
  const backends = Object.keys(report.backends);
  const table = (title: string, rows: string[][]): string => {
    const rendered = new Table({
      head: [pc.bold(pc.cyan(title)), ...backends.map((b) => pc.bold(b))],
      style: { head: [], border: [] },
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    rendered.push(...rows);
    return rendered.toString();
  };
  const checks = checkIds(report).map((id) => [
    id,
    ...backends.map((b) => {
      const check = report.backends[b]?.checks[id];
      return check ? SYMBOL[check.status] : '';
    }),
  ]);
  const figures = KEY_FIGURES.map((key) => [key.label, ...backends.map((b) => figureText(report, b, key))]);
  const capabilities = CAPABILITY_ROWS.map((row) => [
    row.label,
    ...backends.map((b) => {
      const reported = report.backends[b]?.capabilities;
      return reported ? row.read(reported) : '—';
    }),
  ]);
  const tables = [table('check', checks), table('measured', figures), table('capability (reported)', capabilities)];
  if (hasCost(report)) tables.push(table('cost (brokerkit bench)', COST_ROWS.map((row) => [row.label, ...backends.map((b) => costText(report, b, row))])));
  if (hasFaults(report)) tables.push(table('faults (brokerkit faults)', FAULT_SCENARIOS.map((id) => [id, ...backends.map((b) => faultText(report, b, id))])));
  if (hasFailover(report)) {
    const failover = new Table({ head: FAILOVER_HEAD.map((h, index) => pc.bold(index === 0 ? pc.cyan(`failover: ${h}`) : h)), style: { head: [], border: [] } });
    failover.push(...failoverRows(report).map((row) => row.cells.map((cell, index) => (index === 4 && row.lost > 0 ? pc.red(cell) : cell))));
    tables.push(failover.toString());
  }
  return tables.join('\n');
}

/** Failures and unsupported checks with their reasons, below the matrix. */
export function renderReasons(report: ComparisonReport): string {
  const lines: string[] = [];
  for (const [backend, entry] of Object.entries(report.backends)) {
    if (entry.error) lines.push(`${pc.red('✘')} ${backend}: ${entry.error}`);
    for (const [id, check] of Object.entries(entry.checks)) {
      if (check.status === 'pass' || entry.error) continue;
      const mark = check.status === 'fail' ? pc.red('✘') : pc.yellow('–');
      lines.push(`${mark} ${backend} ${id}: ${check.reason ?? ''}`);
    }
  }
  return lines.join('\n');
}
