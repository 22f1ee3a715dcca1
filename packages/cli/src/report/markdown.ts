import { COST_ROWS, FAILOVER_HEAD, FAULT_SCENARIOS, KEY_FIGURES, cellDetail, checkTitle, costText, failoverRows, failoverWhy, faultText, figureText, hasCost, hasFailover, hasFaults, splitCapabilities, splitChecks, summaryOf, type ComparisonReport } from './model.js';

const WORD = { pass: '✅ pass', fail: '❌ **fail**', unsupported: '➖ unsupported' } as const;

const row = (cells: string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;

/** The guarantee matrix as Markdown, leading with what differs (as the HTML page does), then every check's figures. */
export function renderMarkdown(report: ComparisonReport): string {
  const backends = Object.keys(report.backends);
  const header = [row(['', ...backends]), row(['---', ...backends.map(() => '---')])];
  const out: string[] = [`# brokerkit guarantee matrix`, '', `Generated ${report.generatedAt}.`, '', '## What each backend guarantees, and where it is weaker', ''];
  for (const backend of backends) {
    const { holds, weaker } = summaryOf(report, backend);
    out.push(`- **${backend}**: ${holds.join('; ')}.${weaker.length ? ` Weaker: ${weaker.join('; ')}.` : ''}`);
  }
  // What differs leads; what passes everywhere follows, folded.
  const checks = splitChecks(report);
  const capabilities = splitCapabilities(report);
  const checkRow = (id: string): string =>
    row([`\`${id}\` ${checkTitle(id)}`, ...backends.map((b) => {
      const check = report.backends[b]?.checks[id];
      return check ? `${WORD[check.status]}${cellDetail(check)}` : '';
    })]);
  const capabilityRow = (capability: (typeof capabilities.differ)[number]): string =>
    row([`*${capability.label}*`, ...backends.map((b) => {
      const reported = report.backends[b]?.capabilities;
      return reported ? capability.read(reported) : '—';
    })]);
  out.push('', '## Where the backends differ', '');
  if (checks.differ.length + capabilities.differ.length === 0) out.push('Every check passes on every backend, and every capability is the same.');
  else out.push(...header, ...checks.differ.map(checkRow), ...capabilities.differ.map(capabilityRow));
  if (checks.same.length + capabilities.same.length > 0) {
    out.push('', `<details><summary>The same on every backend: ${checks.same.length} checks pass everywhere, ${capabilities.same.length} capabilities alike</summary>`, '', ...header, ...checks.same.map(checkRow), ...capabilities.same.map(capabilityRow), '', '</details>');
  }
  out.push('', '## Measured', '', ...header);
  for (const key of KEY_FIGURES) out.push(row([key.label, ...backends.map((b) => figureText(report, b, key))]));
  if (hasCost(report)) {
    out.push('', '## Cost (brokerkit bench: the same workload through brokerkit and the raw client)', '', ...header);
    for (const cost of COST_ROWS) out.push(row([cost.label, ...backends.map((b) => costText(report, b, cost))]));
  }
  if (hasFaults(report)) {
    out.push('', '## Faults (brokerkit faults: consumer crashes, poison, bad input)', '', ...header);
    for (const id of FAULT_SCENARIOS) out.push(row([id, ...backends.map((b) => faultText(report, b, id))]));
  }
  if (hasFailover(report)) {
    out.push('', '## Failover (brokerkit faults on clusters: the node leading the queue killed, or stopped, while keyed messages flow)', '');
    out.push(row([...FAILOVER_HEAD]), row(FAILOVER_HEAD.map(() => '---')));
    for (const failover of failoverRows(report)) out.push(row(failover.cells.map((cell, index) => (index === 4 && failover.lost > 0 ? `**${cell}**` : cell))));
    out.push('', ...failoverWhy(report).map(({ cluster, why }) => `- **${cluster}**: ${why}`));
  }
  out.push('', '## Details');
  for (const [backend, entry] of Object.entries(report.backends)) {
    out.push('', `### ${backend}`, '', `URL: \`${entry.url}\``);
    if (entry.error) out.push('', `**Unreachable:** ${entry.error}`);
    for (const note of entry.capabilities?.notes ?? []) out.push(`- ${note}`);
    out.push('', row(['check', 'status', 'ms', 'figures / reason']), row(['---', '---', '---:', '---']));
    for (const [id, check] of Object.entries(entry.checks)) {
      const figures = Object.entries(check.figures).map(([k, v]) => `${k}=${v}`).join(', ');
      out.push(row([id, check.status, String(check.durationMs), [check.reason, figures].filter(Boolean).join(' — ')]));
    }
  }
  return `${out.join('\n')}\n`;
}
