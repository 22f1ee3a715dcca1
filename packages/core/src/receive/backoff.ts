import type { BackoffOptions } from '../contract/options.js';

/**
 * Delay before the next attempt after `attempt` failed (attempt ≥ 1).
 * The base delay grows as initialMs × multiplier^(attempt-1), capped at maxMs; jitter then
 * draws uniformly from [base × (1 - jitter), base], so jitter never lengthens a delay.
 */
export function backoffDelayMs(attempt: number, backoff: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, attempt - 1);
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.multiplier ** exponent);
  if (backoff.jitter <= 0) return Math.round(base);
  const low = base * (1 - backoff.jitter);
  return Math.round(low + (base - low) * random());
}
