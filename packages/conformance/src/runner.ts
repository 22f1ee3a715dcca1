import { randomBytes } from 'node:crypto';
import { connect, describeError, type Broker, type Capabilities } from '@brokerkit/core';
import { CHECKS } from './checks/index.js';
import type { BackendReport, Check, CheckContext, CheckResult, Harness, Timing } from './types.js';

export const DEFAULT_TIMING: Timing = { ackTimeoutMs: 2_000, backoffLateToleranceMs: 1_000, deadlineScale: 1, burstMessages: 2_000 };
/** A check still running after this (scaled) is failed and its connections are dropped. */
const CHECK_TIMEOUT_MS = 180_000;

export interface RunOptions {
  /** Run only these check ids. */
  only?: readonly string[];
  /** Called before and after each check: progress for CLIs and test output. */
  onProgress?: (event: ProgressEvent) => void;
}

export type ProgressEvent =
  | { kind: 'start'; backend: string; check: Check; index: number; total: number }
  | { kind: 'done'; backend: string; result: CheckResult; index: number; total: number };

/** Run the suite against one backend; never throws for a failing backend, it reports. */
export async function runConformance(harness: Harness, options: RunOptions = {}): Promise<BackendReport> {
  const checks = selectChecks(options.only);
  let capabilities: Capabilities;
  try {
    const probe = await openConnection(harness);
    capabilities = probe.capabilities;
    await probe.ping();
    await probe.close();
  } catch (error) {
    const reason = `backend unreachable: ${describeError(error)}`;
    return { backend: harness.backend, url: harness.url, capabilities: undefined, error: reason, checks: checks.map((check) => failed(check, reason, 0)) };
  }
  const results: CheckResult[] = [];
  for (const [index, check] of checks.entries()) {
    options.onProgress?.({ kind: 'start', backend: harness.backend, check, index, total: checks.length });
    const result = await runCheck(check, harness, capabilities);
    results.push(result);
    options.onProgress?.({ kind: 'done', backend: harness.backend, result, index, total: checks.length });
  }
  return { backend: harness.backend, url: harness.url, capabilities, checks: results };
}

export function selectChecks(only?: readonly string[]): Check[] {
  if (!only || only.length === 0) return [...CHECKS];
  const unknown = only.filter((id) => !CHECKS.some((check) => check.id === id));
  if (unknown.length > 0) throw new Error(`unknown check ${unknown.join(', ')} (known: ${CHECKS.map((c) => c.id).join(', ')})`);
  return CHECKS.filter((check) => only.includes(check.id));
}

/** Run one check with its own connections, closed (or dropped) afterwards, under an overall deadline. */
export async function runCheck(check: Check, harness: Harness, capabilities: Capabilities): Promise<CheckResult> {
  const timing = { ...DEFAULT_TIMING, ...harness.timing };
  const opened: Broker[] = [];
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const context: CheckContext = {
    harness,
    capabilities,
    timing,
    async open() {
      const broker = await openConnection(harness);
      opened.push(broker);
      return broker;
    },
    unique: (label) => `bk-${label}-${runId}`,
    deadline: (baseMs) => Math.round(baseMs * timing.deadlineScale),
  };
  const started = performance.now();
  const timeoutMs = CHECK_TIMEOUT_MS * timing.deadlineScale;
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`check did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    const outcome = await Promise.race([check.run(context), timedOut]);
    const result: CheckResult = { id: check.id, title: check.title, ...outcome, durationMs: Math.round(performance.now() - started) };
    const defect = harness.emulatorDefects?.[check.id];
    if (result.status === 'fail' && defect && defect.allows.test(result.reason ?? '')) {
      result.emulatorDefect = defect.what;
      result.reason = `${result.reason ?? ''} (known emulator defect: ${defect.what})`;
    }
    return result;
  } catch (error) {
    return failed(check, `threw ${describeError(error)}`, Math.round(performance.now() - started));
  } finally {
    clearTimeout(timer);
    await Promise.allSettled(opened.map((broker) => broker.close()));
  }
}

function openConnection(harness: Harness): Promise<Broker> {
  return harness.connect ? harness.connect() : connect(harness.url);
}

function failed(check: Check, reason: string, durationMs: number): CheckResult {
  return { id: check.id, title: check.title, status: 'fail', reason, figures: {}, durationMs };
}
