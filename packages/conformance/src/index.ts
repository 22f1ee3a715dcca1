export { CHECKS } from './checks/index.js';
export { DEFAULT_TIMING, runCheck, runConformance, selectChecks, type ProgressEvent, type RunOptions } from './runner.js';
export { Tally, ConcurrencyGauge, pause, percentile, waitUntil } from './measure.js';
export type { BackendReport, Check, CheckContext, CheckOutcome, CheckResult, CheckStatus, EmulatorDefect, Figures, Harness, Timing } from './types.js';
export { BACKENDS, harnessFor, type BackendProfile } from './backends.js';
