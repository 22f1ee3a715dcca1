import type { BackendReport, CheckResult } from '@brokerkit/conformance';
import { CHECKS } from '@brokerkit/conformance';
import type { Capabilities } from '@brokerkit/core';
import type { ScenarioResult } from '@brokerkit/faults';

/** The comparison as written to JSON: one entry per backend, one per check. */
export interface ComparisonReport {
  generatedAt: string;
  backends: Record<
    string,
    {
      url: string;
      capabilities: Capabilities | null;
      error?: string;
      checks: Record<string, Omit<CheckResult, 'id'>>;
      /** From `brokerkit bench --json` files given to `compare --bench`: what the abstraction costs. */
      cost?: CostSummary;
      /** From `brokerkit faults --json` files given to `compare --faults`: each scenario's outcome. */
      faults?: Record<string, { status: string; lost: number; duplicates: number; sent: number; recoveryMs?: number | null; reason?: string; details?: Record<string, number | string | boolean> }>;
    }
  >;
  /** From `brokerkit faults --json` files of clusters given to `compare --failover`: per cluster, what a node failure cost. */
  failover?: Record<string, { backend: string; scenarios: Record<string, ScenarioResult> }>;
}

/** The part of a bench report the matrix shows. */
export interface CostSummary {
  messages: number;
  sizeBytes: number;
  sdk: { produceMsgsPerSec: number; consumeMsgsPerSec: number; p50Ms: number; p99Ms: number; peakRssBytes: number };
  raw: CostSummary['sdk'] | null;
  /** `p99InTurns`: absent from bench files written before the bench measured it. */
  ratios: { produce: number; consume: number; p99: number; p99InTurns?: number } | null;
}

export function toComparison(reports: BackendReport[], now = new Date()): ComparisonReport {
  const backends: ComparisonReport['backends'] = {};
  for (const report of reports) {
    const checks: Record<string, Omit<CheckResult, 'id'>> = {};
    for (const { id, ...rest } of report.checks) checks[id] = rest;
    backends[report.backend] = { url: report.url, capabilities: report.capabilities ?? null, ...(report.error ? { error: report.error } : {}), checks };
  }
  return { generatedAt: now.toISOString(), backends };
}

export function failedChecks(report: ComparisonReport): number {
  return Object.values(report.backends).reduce((sum, b) => sum + Object.values(b.checks).filter((c) => c.status === 'fail' && !c.emulatorDefect).length, 0);
}

/** Checks that failed exactly as their emulator is known to (shown as failed; not the adapter's failure). */
export function emulatorFailures(report: ComparisonReport): string[] {
  return Object.entries(report.backends).flatMap(([backend, b]) => Object.entries(b.checks).filter(([, c]) => c.status === 'fail' && c.emulatorDefect).map(([id]) => `${backend} ${id}`));
}

/** A figure shown as its own row of the matrix. */
export interface KeyFigure {
  label: string;
  check: string;
  figure: string;
  unit?: string;
}

export const KEY_FIGURES: readonly KeyFigure[] = [
  { label: 'duplicates, competing consumers', check: 'competing-consumers', figure: 'duplicates' },
  { label: 'same-key order violations', check: 'key-ordering', figure: 'violations' },
  { label: 'redelivery after crash', check: 'crash-redelivery', figure: 'redeliveredAfterMs', unit: 'ms' },
  { label: 'retry gaps (want 300,600,1200)', check: 'backoff', figure: 'measuredGapsMs', unit: 'ms' },
  { label: 'duplicates across restarts', check: 'restart-no-loss', figure: 'duplicates' },
  { label: 'delayed send, late p50', check: 'delayed-send', figure: 'p50LateMs', unit: 'ms' },
  { label: 'delayed send, late p99', check: 'delayed-send', figure: 'p99LateMs', unit: 'ms' },
  { label: 'backlog counted', check: 'backlog', figure: 'counts' },
  { label: 'dead-letter replay of 5', check: 'dead-letter-replay', figure: 'replayMs', unit: 'ms' },
  { label: 'produce', check: 'throughput', figure: 'produceMsgsPerSec', unit: 'msg/s' },
  { label: 'consume', check: 'throughput', figure: 'consumeMsgsPerSec', unit: 'msg/s' },
  { label: 'latency p50', check: 'throughput', figure: 'p50Ms', unit: 'ms' },
  { label: 'latency p99', check: 'throughput', figure: 'p99Ms', unit: 'ms' },
];

/** Cost rows (from bench files): brokerkit's figure, the raw client's, and the ratio. */
export const COST_ROWS: readonly { label: string; read: (c: CostSummary) => string }[] = [
  { label: 'produce: brokerkit / raw', read: (c) => pair(c.sdk.produceMsgsPerSec, c.raw?.produceMsgsPerSec, 'msg/s') },
  { label: 'produce ratio (≥ 0.95 wanted)', read: (c) => ratioText(c.ratios?.produce) },
  { label: 'consume: brokerkit / raw', read: (c) => pair(c.sdk.consumeMsgsPerSec, c.raw?.consumeMsgsPerSec, 'msg/s') },
  { label: 'consume ratio (≥ 0.95 wanted)', read: (c) => ratioText(c.ratios?.consume) },
  { label: 'p99: brokerkit / raw', read: (c) => pair(c.sdk.p99Ms, c.raw?.p99Ms, 'ms') },
  { label: 'p99 ratio (≤ 1.2 wanted)', read: (c) => ratioText(c.ratios?.p99) },
  { label: 'p99 ratio, sides taking turns in one process', read: (c) => ratioText(c.ratios?.p99InTurns) },
  { label: 'peak memory, brokerkit', read: (c) => formatBytes(c.sdk.peakRssBytes) },
];

const pair = (sdk: number, raw: number | undefined, unit: string): string => `${sdk} / ${raw ?? '—'} ${unit}`;
const ratioText = (ratio: number | undefined): string => (ratio === undefined || Number.isNaN(ratio) ? '—' : ratio.toFixed(2));

/** Fault rows (from faults files): status, and lost / duplicates where the scenario ran. */
export const FAULT_SCENARIOS = ['consumer-crash', 'key-crash', 'crash-recovery', 'broker-restart', 'network-cut', 'poison', 'bad-input'] as const;

export const hasFaults = (report: ComparisonReport): boolean => Object.values(report.backends).some((b) => b.faults !== undefined);

export function faultText(report: ComparisonReport, backend: string, scenario: string): string {
  const result = report.backends[backend]?.faults?.[scenario];
  if (!result) return '—';
  if (result.status === 'not-run') return 'not run';
  if (scenario === 'crash-recovery' && result.details) return `${result.status}: ${recoveryText(result.details)}`;
  if (scenario === 'key-crash' && result.details?.ordering === 'key') {
    const { violations, longestHandoverMs, consumers } = result.details;
    return `${result.status}: ${Number(violations)} order violations over ${Number(consumers)} instances, keys moved within ${Math.round(Number(longestHandoverMs) / 100) / 10} s of a kill; ${result.lost} lost, ${result.duplicates} dup of ${result.sent}`;
  }
  return `${result.status}: ${result.lost} lost, ${result.duplicates} dup of ${result.sent}`;
}

/** `100 in 6.1 s, 1000 in 6.3 s after the kill; lease 5 s (what bounds it)`. */
function recoveryText(details: Record<string, number | string | boolean>): string {
  const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;
  const rounds = Object.entries(details)
    .map(([name, value]) => [/^recovery(\d+)Ms$/.exec(name)?.[1], value] as const)
    .filter((entry): entry is readonly [string, number] => entry[0] !== undefined && typeof entry[1] === 'number')
    .map(([held, ms]) => `${held} in ${seconds(ms)}`);
  return `${rounds.join(', ')} after the kill; lease ${seconds(Number(details.leaseMs))} (${String(details.lease)})`;
}

/** Whether any backend carries bench figures. */
export const hasCost = (report: ComparisonReport): boolean => Object.values(report.backends).some((b) => b.cost !== undefined);

export function costText(report: ComparisonReport, backend: string, row: (typeof COST_ROWS)[number]): string {
  const cost = report.backends[backend]?.cost;
  return cost ? row.read(cost) : '—';
}

/** Capability rows, with how each value reads in a cell. */
export const CAPABILITY_ROWS: readonly { label: string; read: (c: Capabilities) => string }[] = [
  { label: 'key ordering', read: (c) => c.ordering },
  { label: 'dead letter', read: (c) => c.deadLetter },
  { label: 'delayed retry', read: (c) => c.delayedRetry },
  { label: 'attempt count', read: (c) => c.attemptCount },
  { label: 'ephemeral subscriptions', read: (c) => c.ephemeralSubscriptions },
  // Reports written before backlog and delayed sends existed lack them.
  { label: 'delayed send', read: (c) => (c.delayedSend === undefined ? '—' : c.delayedSend === 'none' ? 'none' : `${c.delayedSend}, ≤ ${Math.floor(c.maxDelayMs / 86_400_000)} days`) },
  { label: 'backlog', read: (c) => c.backlog ?? '—' },
  { label: 'dead-letter replay', read: (c) => c.deadLetterReplay ?? '—' },
  { label: 'max message', read: (c) => formatBytes(c.maxMessageBytes) },
];

export function checkTitle(id: string): string {
  return CHECKS.find((check) => check.id === id)?.title ?? id;
}

export function figureText(report: ComparisonReport, backend: string, key: KeyFigure): string {
  const check = report.backends[backend]?.checks[key.check];
  const value = check?.figures[key.figure];
  if (value === undefined || check?.status !== 'pass') return '—';
  return key.unit ? `${value} ${key.unit}` : String(value);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1_048_576) return `${Math.round((bytes / 1_048_576) * 10) / 10} MiB`;
  if (bytes >= 1_024) return `${Math.round(bytes / 1_024)} KiB`;
  return `${bytes} B`;
}

/** Every check id seen in the report, in suite order. */
export function checkIds(report: ComparisonReport): string[] {
  const seen = new Set<string>();
  for (const backend of Object.values(report.backends)) for (const id of Object.keys(backend.checks)) seen.add(id);
  return CHECKS.map((c) => c.id).filter((id) => seen.has(id));
}

/** Failover scenarios, in the order the section shows them. */
export const FAILOVER_SCENARIOS = ['node-failover', 'node-pause'] as const;
const FAULT_WORDS: Record<string, string> = { 'node-failover': 'leader SIGKILLed', 'node-pause': 'leader SIGSTOPped 10 s' };

export const hasFailover = (report: ComparisonReport): boolean => Object.keys(report.failover ?? {}).length > 0;

/** The failover section's columns, and one row per cluster and scenario that ran. */
export const FAILOVER_HEAD = ['cluster', 'fault', 'runs', 'confirmed / sent', 'lost (confirmed, never handled)', 'duplicates', 'order violations', 'longest without a send', 'longest without a delivery', 'throughput back'] as const;

export function failoverRows(report: ComparisonReport): { cluster: string; scenario: string; lost: number; cells: string[] }[] {
  const seconds = (ms: unknown): string => (typeof ms === 'number' ? `${(ms / 1_000).toFixed(1)} s` : '—');
  const rows: { cluster: string; scenario: string; lost: number; cells: string[] }[] = [];
  for (const [cluster, entry] of Object.entries(report.failover ?? {})) {
    for (const scenario of FAILOVER_SCENARIOS) {
      const result = entry.scenarios[scenario];
      if (!result || result.status === 'not-run') continue;
      const { details } = result;
      rows.push({
        cluster,
        scenario,
        lost: result.lost,
        cells: [
          cluster,
          FAULT_WORDS[scenario] ?? scenario,
          String(details.runs ?? '—'),
          `${result.confirmed} / ${result.sent}`,
          String(result.lost),
          String(result.duplicates),
          String(details.orderViolations ?? '—'),
          seconds(details.longestWithoutSendMs),
          seconds(details.longestWithoutDeliveryMs),
          result.recoveryMs === null ? 'not within a run' : seconds(result.recoveryMs),
        ],
      });
    }
  }
  return rows;
}

/** Why each broker's cluster behaves as measured: the replication it confirms a write after. */
export const FAILOVER_WHY: Readonly<Record<string, string>> = {
  redis: 'Redis replicates asynchronously and confirms a write once the primary has it; a primary replaced while stalled answers the writes it had queued, then rejoins as a replica and drops them (WAIT, the adapter\'s waitReplicas, confirms only what a replica has).',
  kafka: 'with acks=all, replication factor 3, min.insync.replicas 2 and no unclean leader election, a confirmed record is on two replicas, and only an in-sync replica becomes leader.',
  rabbitmq: 'a quorum queue confirms a publish once a majority of its members has it, and elects its next leader among them; publishes are nacked while it has none.',
  nats: "JetStream acknowledges a publish once a majority of the stream's replicas stored it (fsynced only with sync_interval: always), and elects its next leader among them; a process kill or stop leaves written data in the OS page cache, so these faults cannot show what fsync guards against.",
};

/** One line per cluster of the section: why its broker behaves so. */
export function failoverWhy(report: ComparisonReport): { cluster: string; why: string }[] {
  return Object.entries(report.failover ?? {}).flatMap(([cluster, entry]) => (FAILOVER_WHY[entry.backend] ? [{ cluster, why: FAILOVER_WHY[entry.backend] as string }] : []));
}

// ── what differs, first ────────────────────────────────────────────────────────────────

/** Checks whose outcome differs between the backends, or that not every backend passes; and the rest. */
export function splitChecks(report: ComparisonReport): { differ: string[]; same: string[] } {
  const entries = Object.values(report.backends);
  const differ: string[] = [];
  const same: string[] = [];
  for (const id of checkIds(report)) {
    const allPass = entries.every((entry) => entry.checks[id]?.status === 'pass');
    (allPass ? same : differ).push(id);
  }
  return { differ, same };
}

/** Capability rows whose value is not the same for every backend that reported capabilities; and the rest. */
export function splitCapabilities(report: ComparisonReport): { differ: (typeof CAPABILITY_ROWS)[number][]; same: (typeof CAPABILITY_ROWS)[number][] } {
  const reported = Object.values(report.backends).flatMap((entry) => (entry.capabilities ? [entry.capabilities] : []));
  const differ: (typeof CAPABILITY_ROWS)[number][] = [];
  const same: (typeof CAPABILITY_ROWS)[number][] = [];
  for (const row of CAPABILITY_ROWS) (new Set(reported.map((capabilities) => row.read(capabilities))).size > 1 ? differ : same).push(row);
  return { differ, same };
}

/** A check's outcome in a cell: the status, and the figures that matter, readable without hovering. */
export function cellText(check: Omit<CheckResult, 'id'> | undefined): string {
  return check ? `${check.status}${cellDetail(check)}` : '—';
}

/** What follows the status in a cell: `: <reason>` where it did not pass, else ` · <up to three figures>`. */
export function cellDetail(check: Omit<CheckResult, 'id'>): string {
  if (check.status !== 'pass') return check.reason ? `: ${check.reason}` : '';
  const figures = Object.entries(check.figures)
    .filter(([, value]) => typeof value === 'number' || (typeof value === 'string' && value.length <= 24))
    .slice(0, 3)
    .map(([name, value]) => `${name} ${value}`);
  return figures.length ? ` · ${figures.join(', ')}` : '';
}

/**
 * What a backend guarantees, and where it is weaker than the best of the others, in words:
 * from its capabilities, the checks it did not pass, and the figures where it trails.
 */
export function summaryOf(report: ComparisonReport, backend: string): { holds: string[]; weaker: string[] } {
  const entry = report.backends[backend];
  if (!entry) return { holds: [], weaker: [] };
  if (entry.error) return { holds: [], weaker: [`not measured: ${entry.error}`] };
  const holds: string[] = [];
  const weaker: string[] = [];
  const checks = Object.entries(entry.checks);
  const passed = checks.filter(([, check]) => check.status === 'pass').length;
  holds.push(`${passed} of ${checks.length} checks pass`);
  const c = entry.capabilities;
  if (c) {
    if (c.ordering === 'per-key') holds.push('key order across instances');
    else weaker.push(c.ordering === 'per-key-per-instance' ? 'key order within one instance only' : `key order: ${c.ordering}`);
    holds.push(`dead letters ${c.deadLetter}`);
    if (c.attemptCount === 'exact') holds.push('exact attempt counts');
    else weaker.push('attempt counts approximate');
    if (c.delayedSend === 'none') weaker.push('no delayed sends');
    else if (c.delayedSend) holds.push(`delayed sends ${c.delayedSend}`);
    if (c.backlog === 'none') weaker.push('no backlog figure');
  }
  for (const [id, check] of checks) if (check.status !== 'pass') weaker.push(`${id} ${check.status}${check.reason ? ` (${check.reason})` : ''}`);
  // Figures where this backend is furthest from the best: lower is better for each of these.
  const trailing: [KeyFigure, number][] = [];
  for (const key of KEY_FIGURES.filter((figure) => ['duplicates, competing consumers', 'redelivery after crash', 'duplicates across restarts', 'delayed send, late p99'].includes(figure.label))) {
    const value = numberOf(report, backend, key);
    if (value === undefined) continue;
    const others = Object.keys(report.backends).map((other) => numberOf(report, other, key)).filter((v): v is number => v !== undefined);
    const best = Math.min(...others);
    if (others.length > 1 && value > best && value >= 2 * Math.max(best, key.unit === 'ms' ? 50 : 1)) trailing.push([key, best]);
  }
  for (const [key, best] of trailing) weaker.push(`${key.label} ${figureText(report, backend, key)} (best ${best}${key.unit ? ` ${key.unit}` : ''})`);
  return { holds, weaker };
}

function numberOf(report: ComparisonReport, backend: string, key: KeyFigure): number | undefined {
  const check = report.backends[backend]?.checks[key.check];
  const value = Number(check?.figures[key.figure]);
  return check?.status === 'pass' && Number.isFinite(value) ? value : undefined;
}
