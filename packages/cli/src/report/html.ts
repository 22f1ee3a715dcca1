import { COST_ROWS, FAILOVER_HEAD, FAULT_SCENARIOS, KEY_FIGURES, cellText, checkTitle, costText, failoverRows, failoverWhy, faultText, figureText, hasCost, hasFailover, hasFaults, splitCapabilities, splitChecks, summaryOf, type ComparisonReport } from './model.js';

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

interface Series {
  title: string;
  unit: string;
  bars: { backend: string; label: string; value: number }[];
}

/**
 * A self-contained page that leads with what differs: a summary per backend (what it guarantees,
 * where it is weaker), then the checks and capabilities where the backends differ, with their
 * figures in the cells; what is the same everywhere is folded. Then figures, charts, cost,
 * faults, failover and every check's details. Readable at phone width (tables scroll).
 */
export function renderHtml(report: ComparisonReport): string {
  const backends = Object.keys(report.backends);
  const head = `<tr><th></th>${backends.map((b) => `<th>${escape(b)}</th>`).join('')}</tr>`;
  const checkRow = (id: string): string => {
    const cells = backends.map((b) => {
      const check = report.backends[b]?.checks[id];
      return check ? `<td class="${check.status}">${escape(cellText(check))}</td>` : '<td>—</td>';
    });
    return `<tr><th title="${escape(checkTitle(id))}">${escape(id)}</th>${cells.join('')}</tr>`;
  };
  const capabilityRow = (row: ReturnType<typeof splitCapabilities>['differ'][number]): string =>
    `<tr class="capability"><th>${escape(row.label)}</th>${backends.map((b) => {
      const capabilities = report.backends[b]?.capabilities;
      return `<td>${escape(capabilities ? row.read(capabilities) : '—')}</td>`;
    }).join('')}</tr>`;
  const checks = splitChecks(report);
  const capabilities = splitCapabilities(report);
  const differences =
    checks.differ.length + capabilities.differ.length > 0
      ? `<div class="scroll"><table id="matrix">${head}\n${checks.differ.map(checkRow).join('\n')}\n${capabilities.differ.map(capabilityRow).join('\n')}</table></div>`
      : '<p id="matrix-none">Every check passes on every backend, and every capability is the same.</p>';
  const same =
    checks.same.length + capabilities.same.length > 0
      ? `<details id="same"><summary>The same on every backend: ${checks.same.length} checks pass everywhere${capabilities.same.length ? `, ${capabilities.same.length} capabilities alike` : ''} (open)</summary><div class="scroll"><table>${head}\n${checks.same.map(checkRow).join('\n')}\n${capabilities.same.map(capabilityRow).join('\n')}</table></div></details>`
      : '';
  const cards = backends
    .map((b) => {
      const { holds, weaker } = summaryOf(report, b);
      return `<div class="card"><h3>${escape(b)}</h3><p class="holds">${escape(holds.join('; '))}</p>${weaker.length ? `<ul class="weaker">${weaker.map((w) => `<li>${escape(w)}</li>`).join('')}</ul>` : '<p class="pass">nothing weaker than the others measured</p>'}</div>`;
    })
    .join('');
  const figureRows = KEY_FIGURES.map((key) => `<tr><th>${escape(key.label)}</th>${backends.map((b) => `<td>${escape(figureText(report, b, key))}</td>`).join('')}</tr>`).join('\n');
  const charts = [
    series(report, 'Throughput', 'msg/s', [['produceMsgsPerSec', 'produce'], ['consumeMsgsPerSec', 'consume']]),
    series(report, 'End-to-end latency', 'ms', [['p50Ms', 'p50'], ['p99Ms', 'p99']]),
  ].map(barChart).join('\n');
  const costCharts = hasCost(report) ? `<div class="charts">${[costSeries(report)].map(barChart).join('\n')}</div>` : '';
  const faultCharts = hasFaults(report) ? `<div class="charts">${faultSeries(report).map(barChart).join('\n')}</div>` : '';
  const costRows = COST_ROWS.map((row) => `<tr><th>${escape(row.label)}</th>${backends.map((b) => `<td>${escape(costText(report, b, row))}</td>`).join('')}</tr>`).join('\n');
  const cost = hasCost(report) ? `<h2>Cost</h2><p>brokerkit bench: the same workload through brokerkit and through each broker's raw client.</p><div class="scroll"><table>${head}\n${costRows}</table></div>${costCharts}` : '';
  const faultRows = FAULT_SCENARIOS.map((id) => `<tr><th>${escape(id)}</th>${backends.map((b) => `<td>${escape(faultText(report, b, id))}</td>`).join('')}</tr>`).join('\n');
  const faults = hasFaults(report) ? `<h2>Faults</h2><p>brokerkit faults: consumer processes SIGKILLed mid-stream, poison and slow handlers, bad input.</p><div class="scroll"><table>${head}\n${faultRows}</table></div>${faultCharts}` : '';
  const failover = hasFailover(report) ? failoverSection(report) : '';
  const details = Object.entries(report.backends)
    .map(([backend, entry]) => {
      const rows = Object.entries(entry.checks)
        .map(([id, c]) => `<tr><td>${escape(id)}</td><td class="${c.status}">${c.status}</td><td>${c.durationMs}</td><td>${escape([c.reason, Object.entries(c.figures).map(([k, v]) => `${k}=${v}`).join(', ')].filter(Boolean).join(' — '))}</td></tr>`)
        .join('\n');
      return `<h3>${escape(backend)}</h3><p><code>${escape(entry.url)}</code>${entry.error ? ` — <b>unreachable:</b> ${escape(entry.error)}` : ''}</p>
<div class="scroll"><table><tr><th>check</th><th>status</th><th>ms</th><th>figures</th></tr>${rows}</table></div>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>brokerkit guarantee matrix</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem 2rem;color:#1d232a;max-width:1200px}
h1{margin:.2rem 0}h2{margin:1.4rem 0 .5rem}h3{margin:0 0 .3rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}th,td{border:1px solid #d5dbe1;padding:.3rem .6rem;text-align:left;vertical-align:top}
thead th,tr:first-child th{background:#f1f4f7}.pass{background:#e3f6e8;color:#17612c}.fail{background:#fde4e4;color:#9b1c1c;font-weight:600}
.unsupported{background:#fff6dc;color:#7a5b00}tr.capability th{font-style:italic}
.scroll{overflow-x:auto;max-width:100%}.charts{display:flex;gap:2rem;flex-wrap:wrap}svg{max-width:100%;height:auto}svg text{font:12px system-ui,sans-serif}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(250px,1fr));gap:.6rem}
.card{border:1px solid #d5dbe1;border-radius:6px;padding:.5rem .7rem}.card p{margin:.2rem 0}.card ul{margin:.2rem 0;padding-left:1.1rem}
.weaker li{color:#7a2e0e}details>summary{cursor:pointer;font-weight:600;margin:.5rem 0}
@media (max-width:700px){body{margin:.6rem;font-size:13px}h1{font-size:1.5rem}h2{font-size:1.15rem}.cards{display:flex;overflow-x:auto;scroll-snap-type:x mandatory}.card{flex:0 0 82%;scroll-snap-align:start}th,td{padding:.25rem .4rem}}
</style></head><body>
<h1>brokerkit guarantee matrix</h1><p>${backends.length} backends, ${checks.differ.length + checks.same.length} checks; generated ${escape(report.generatedAt)}.</p>
<section id="summary"><h2>What each backend guarantees, and where it is weaker</h2><div class="cards">${cards}</div></section>
<section id="differences"><h2>Where the backends differ</h2>${differences}</section>
${same}
<h2>Measured</h2><div class="scroll"><table>${head}\n${figureRows}</table></div>
<div class="charts">${charts}</div>
${cost}
${faults}
${failover}
<h2>Capability notes</h2>${capabilityNotes(report)}
<details><summary>Every check's figures, per backend (open)</summary>${details}</details>
</body></html>
`;
}

/** The failover table and two charts: confirmed messages lost, and the longest time without a send. */
function failoverSection(report: ComparisonReport): string {
  const rows = failoverRows(report);
  const table = `<div class="scroll"><table id="failover"><tr>${FAILOVER_HEAD.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>${rows
    .map((row) => `<tr>${row.cells.map((cell, index) => `<td${index === 4 ? ` class="${row.lost > 0 ? 'fail' : 'pass'}"` : ''}>${escape(cell)}</td>`).join('')}</tr>`)
    .join('\n')}</table></div>`;
  // Short labels: the chart's label column is narrow.
  const bar = (row: (typeof rows)[number], value: number): Series['bars'][number] => ({ backend: row.cluster.replace(/-cluster$/, ''), label: row.scenario === 'node-pause' ? 'pause' : 'kill', value });
  const charts: Series[] = [
    { title: 'Confirmed messages lost (all runs)', unit: 'lost', bars: rows.map((row) => bar(row, row.lost)) },
    {
      title: 'Longest time without a successful send',
      unit: 'ms',
      bars: rows.map((row) => bar(row, Number(report.failover?.[row.cluster]?.scenarios[row.scenario]?.details.longestWithoutSendMs ?? 0))),
    },
  ];
  return `<h2>Failover</h2><p>brokerkit faults on clusters: the node leading the queue SIGKILLed (and revived) or SIGSTOPped for 10 s while a producer sends keyed messages and two consumer processes handle them. Lost counts only confirmed messages.</p>${table}<ul>${failoverWhy(report).map(({ cluster, why }) => `<li><b>${escape(cluster)}</b>: ${escape(why)}</li>`).join('')}</ul><div class="charts">${charts.map(barChart).join('\n')}</div>`;
}

/** What each backend says it does natively, emulates or cannot do, in its own words. */
function capabilityNotes(report: ComparisonReport): string {
  return Object.entries(report.backends)
    .map(([backend, entry]) => {
      const notes = entry.capabilities?.notes ?? [];
      return `<h3>${escape(backend)}</h3>${notes.length ? `<ul>${notes.map((n) => `<li>${escape(n)}</li>`).join('')}</ul>` : '<p>No notes.</p>'}`;
    })
    .join('\n');
}

/** brokerkit / raw client, per backend: 1.0 is free. */
function costSeries(report: ComparisonReport): Series {
  const bars: Series['bars'] = [];
  for (const [backend, entry] of Object.entries(report.backends)) {
    const ratios = entry.cost?.ratios;
    if (!ratios) continue;
    bars.push({ backend, label: 'produce', value: ratios.produce }, { backend, label: 'consume', value: ratios.consume }, { backend, label: 'p99', value: ratios.p99 });
  }
  return { title: 'brokerkit ÷ raw client (throughput: higher is better; p99: lower)', unit: '×', bars };
}

/** Duplicates each fault caused and how long the slowest recovery took, per backend. */
function faultSeries(report: ComparisonReport): Series[] {
  const duplicates: Series['bars'] = [];
  const recovery: Series['bars'] = [];
  let lost = 0;
  for (const [backend, entry] of Object.entries(report.backends)) {
    for (const [scenario, result] of Object.entries(entry.faults ?? {})) {
      if (result.status === 'not-run') continue;
      lost += result.lost;
      if (['consumer-crash', 'broker-restart', 'network-cut'].includes(scenario)) duplicates.push({ backend, label: scenario, value: result.duplicates });
      if (typeof result.recoveryMs === 'number') recovery.push({ backend, label: scenario, value: result.recoveryMs });
    }
  }
  return [
    { title: `Duplicates caused by faults (messages lost, all scenarios: ${lost})`, unit: 'dup', bars: duplicates },
    { title: 'Recovery after the fault', unit: 'ms', bars: recovery },
  ];
}

function series(report: ComparisonReport, title: string, unit: string, figures: [string, string][]): Series {
  const bars: Series['bars'] = [];
  for (const [backend, entry] of Object.entries(report.backends)) {
    const check = entry.checks.throughput;
    if (check?.status !== 'pass') continue;
    for (const [figure, label] of figures) {
      const value = Number(check.figures[figure]);
      if (Number.isFinite(value)) bars.push({ backend, label, value });
    }
  }
  return { title, unit, bars };
}

function barChart(data: Series): string {
  const rowHeight = 22;
  const labelWidth = 150;
  const width = 520;
  const max = Math.max(1, ...data.bars.map((b) => b.value));
  const rows = data.bars
    .map((bar, i) => {
      const y = 28 + i * rowHeight;
      const length = Math.max(1, ((width - labelWidth - 90) * bar.value) / max);
      return `<text x="0" y="${y + 14}">${escape(`${bar.backend} ${bar.label}`)}</text><rect x="${labelWidth}" y="${y + 3}" width="${length.toFixed(1)}" height="15" fill="${bar.label.endsWith('99') || bar.label === 'consume' || bar.label.startsWith('broker') ? '#5b7fc7' : '#8fb3ef'}"/><text x="${labelWidth + length + 6}" y="${y + 14}">${bar.value} ${escape(data.unit)}</text>`;
    })
    .join('');
  const height = 36 + data.bars.length * rowHeight;
  return `<figure><svg width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escape(data.title)}"><text x="0" y="16" font-weight="bold">${escape(data.title)}</text>${rows || '<text x="0" y="44">no figures</text>'}</svg></figure>`;
}
