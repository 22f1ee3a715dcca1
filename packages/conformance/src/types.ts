import type { Broker, Capabilities } from '@brokerkit/core';

/** How the suite reaches one backend. */
export interface Harness {
  /** Backend name for reports: memory, redis, … */
  backend: string;
  /** URL each connection is opened with. */
  url: string;
  /** A new, independent connection (another "instance"). Defaults to connect(url). */
  connect?: () => Promise<Broker>;
  /** A URL of this scheme where nothing listens, for the unreachable-broker check. */
  unreachableUrl?: string;
  /** Per-backend timing: shortest ack timeout the backend honours, slack allowed on backoff delays. */
  timing?: Partial<Timing>;
  /** Stops what was started to provide the backend (a container); called after the suite. */
  dispose?: () => Promise<void>;
  /**
   * Checks the emulator this harness talks to is known to fail, where the real broker keeps the
   * promise: the check still runs and is reported as failed, naming the defect; the node:test
   * case passes only if the failure is exactly that one (`allows` matches its reason).
   */
  emulatorDefects?: Readonly<Record<string, EmulatorDefect>>;
}

export interface EmulatorDefect {
  what: string;
  allows: RegExp;
}

export interface Timing {
  /** Lease used by checks that wait for redelivery after a crash. */
  ackTimeoutMs: number;
  /** How much later than configured a retry may arrive and still count as honouring the backoff. */
  backoffLateToleranceMs: number;
  /** Multiplies every deadline: slower backends get more time, never a weaker check. */
  deadlineScale: number;
  /** Messages in the throughput check's burst (an emulator whose receive slows with queue depth gets fewer). */
  burstMessages: number;
}

export type CheckStatus = 'pass' | 'fail' | 'unsupported';
export type Figures = Record<string, number | string | boolean>;

/** One check's measured result. */
export interface CheckResult {
  id: string;
  title: string;
  status: CheckStatus;
  reason?: string;
  figures: Figures;
  durationMs: number;
  /** Failed the way the harness's emulator is known to (`Harness.emulatorDefects`). */
  emulatorDefect?: string;
}

/** What a check body returns; the runner adds id, title and duration. */
export interface CheckOutcome {
  status: CheckStatus;
  reason?: string;
  figures: Figures;
}

export interface CheckContext {
  readonly harness: Harness;
  readonly capabilities: Capabilities;
  readonly timing: Timing;
  /** A fresh connection, closed (or already destroyed) when the check ends. */
  open(): Promise<Broker>;
  /** A name unique to this run and check: runs never share topics. */
  unique(label: string): string;
  /** `baseMs` scaled for this backend. */
  deadline(baseMs: number): number;
}

export interface Check {
  id: string;
  title: string;
  run(context: CheckContext): Promise<CheckOutcome>;
}

export interface BackendReport {
  backend: string;
  url: string;
  capabilities: Capabilities | undefined;
  /** Set when the backend could not be reached at all: every check then fails. */
  error?: string;
  checks: CheckResult[];
}
