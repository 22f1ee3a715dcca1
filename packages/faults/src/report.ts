export const SCENARIOS = ['consumer-crash', 'key-crash', 'crash-recovery', 'broker-restart', 'network-cut', 'poison', 'bad-input', 'node-failover', 'node-pause'] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

/** One scenario's measured outcome. `not-run`: the harness has no such scenario for this backend yet, said with a reason. */
export interface ScenarioResult {
  status: 'pass' | 'fail' | 'not-run';
  reason?: string;
  sent: number;
  confirmed: number;
  handled: number;
  lost: number;
  duplicates: number;
  /** Longest time nothing new was handled (a crash's stall), or time to recover; null where it does not apply. */
  recoveryMs: number | null;
  details: Record<string, number | string | boolean>;
}

export interface FaultsReport {
  backend: string;
  url: string;
  generatedAt: string;
  messages: number;
  scenarios: Record<ScenarioId, ScenarioResult>;
}

export const notRun = (reason: string): ScenarioResult => ({ status: 'not-run', reason, sent: 0, confirmed: 0, handled: 0, lost: 0, duplicates: 0, recoveryMs: null, details: {} });
