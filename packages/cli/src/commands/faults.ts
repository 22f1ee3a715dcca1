import { spawn } from 'node:child_process';
import { SCENARIOS, clusterNodesFrom, parseProxyRoute, runFaults, type FaultsReport, type ScenarioId } from '@brokerkit/faults';
import Table from 'cli-table3';
import pc from 'picocolors';
import { resolveHarness, write } from './compare.js';
import { UsageError, wholeNumber } from './usage-error.js';

export interface FaultsCommandOptions {
  backend: string;
  url?: string;
  messages?: string;
  only?: string[];
  held?: string[];
  json?: string;
  restartCommand?: string;
  toxiproxy?: string;
  proxyRoute?: string;
  nodesCommand?: string;
  runs?: string;
  downMs?: string;
}

/** Run a shell command to restart the broker; resolves when it exits 0. */
function restartWith(command: string): () => Promise<void> {
  return () =>
    new Promise((resolve, reject) => {
      const child = spawn(command, { shell: true, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`restart command exited ${code}: ${command}`))));
    });
}

const STATUS = { pass: pc.green('✔ pass'), fail: pc.red('✘ FAIL'), 'not-run': pc.yellow('– not run') } as const;

export function renderFaults(report: FaultsReport): string {
  const table = new Table({ head: ['scenario', 'status', 'sent', 'confirmed', 'handled', 'lost', 'duplicates', 'recovery / stall'].map((h) => pc.bold(h)), style: { head: [], border: [] } });
  for (const id of SCENARIOS) {
    const r = report.scenarios[id];
    table.push([id, STATUS[r.status], r.sent, r.confirmed, r.handled, r.lost > 0 ? pc.red(String(r.lost)) : r.lost, r.duplicates, r.recoveryMs === null ? '—' : `${r.recoveryMs} ms`]);
  }
  const notes = SCENARIOS.filter((id) => report.scenarios[id].reason).map((id) => `${report.scenarios[id].status === 'fail' ? pc.red('✘') : pc.yellow('–')} ${id}: ${report.scenarios[id].reason}`);
  const details = SCENARIOS.filter((id) => Object.keys(report.scenarios[id].details).length > 0).map((id) => `${id}: ${pc.dim(Object.entries(report.scenarios[id].details).map(([k, v]) => `${k}=${v}`).join('  '))}`);
  return [table.toString(), ...notes, ...details].join('\n');
}

/** The fault scenarios on one backend; exit 1 when one fails. */
export async function faults(options: FaultsCommandOptions): Promise<number> {
  const { url } = resolveHarness(options.backend, options.url);
  const unknown = (options.only ?? []).filter((id) => !(SCENARIOS as readonly string[]).includes(id));
  if (unknown.length) throw new UsageError(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  const messages = wholeNumber('messages', options.messages, 100);
  const held = options.held?.map((count) => wholeNumber('held', count, 1) as number);
  const toxiproxy = options.toxiproxy ?? process.env.BROKERKIT_TOXIPROXY_URL;
  const routeText = options.proxyRoute ?? (options.backend === 'kafka' ? process.env.BROKERKIT_KAFKA_PROXY_ROUTE : undefined);
  let proxyRoute;
  try {
    proxyRoute = routeText ? parseProxyRoute(routeText) : undefined;
  } catch (error) {
    throw new UsageError(`--proxy-route: ${(error as Error).message}`);
  }
  const runs = wholeNumber('runs', options.runs);
  const downMs = wholeNumber('down-ms', options.downMs, 100);
  const report = await runFaults({
    backend: options.backend,
    url,
    ...(messages ? { messages } : {}),
    ...(options.only ? { only: options.only as ScenarioId[] } : {}),
    ...(held ? { held } : {}),
    ...(options.restartCommand ? { restart: restartWith(options.restartCommand) } : {}),
    ...(toxiproxy ? { toxiproxy } : {}),
    ...(proxyRoute ? { proxyRoute } : {}),
    ...(options.nodesCommand ? { nodes: clusterNodesFrom(options.nodesCommand) } : {}),
    ...(runs ? { runs } : {}),
    ...(downMs ? { downMs } : {}),
    onProgress: (line) => process.stderr.write(`${pc.dim(line)}\n`),
  });
  process.stdout.write(`${renderFaults(report)}\n`);
  if (options.json) process.stdout.write(`wrote ${await write(options.json, `${JSON.stringify(report, null, 2)}\n`)}\n`);
  return SCENARIOS.some((id) => report.scenarios[id].status === 'fail') ? 1 : 0;
}
