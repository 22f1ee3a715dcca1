/**
 * Delayed sends on Kafka: core's `withPortableDelays` keeps a delayed message in
 * `<topic>.delayed`, and its mover gives back what is not due yet with a nack. A log is read
 * in order, so one retry topic would hold a short wait behind a longer one written before it.
 * The mover's nacks go instead to stage topics `<topic>.delayed.<ms>ms`, each with one fixed
 * wait: a record there is due `ms` after it was written, so every partition of a stage is due
 * in the order it is read, and a partition pauses only until its next record is due. The mover
 * looks at a record again when it comes back (never later than its own due time) and sends it
 * to a shorter stage, or, under the shortest, holds it in the process until due, uncommitted.
 */

const DAY_MS = 86_400_000;

/** Stage waits: 1 s × 4^k, up to 2^28 ms (74.6 h); a wait of d takes at most 3 hops per stage below d. */
export const STAGES_MS: readonly number[] = Array.from({ length: 10 }, (_, k) => 1_024 * 4 ** k);

/** Waits shorter than the shortest stage are held in the process, the record uncommitted (a crash reads it again). */
export const HOLD_UNDER_MS = STAGES_MS[0] as number;

/** The longest stage: the most one nack puts a record off. */
export const LONGEST_STAGE_MS = STAGES_MS[STAGES_MS.length - 1] as number;

/** The longest delay a send takes; every stage keeps its records a week past their wait. */
export const MAX_DELAY_MS = 7 * DAY_MS;

export const stageTopic = (delayQueue: string, ms: number): string => `${delayQueue}.${ms}ms`;

/** Kept a week past the stage's wait, whatever the broker's default: a week for the mover to come back. */
export const stageConfig = (ms: number): Record<string, string> => ({ 'retention.ms': String(ms + 7 * DAY_MS) });

/** The longest stage no longer than `waitMs` (`waitMs` ≥ HOLD_UNDER_MS). */
export function stageFor(waitMs: number): number {
  let chosen = HOLD_UNDER_MS;
  for (const ms of STAGES_MS) if (ms <= waitMs) chosen = ms;
  return chosen;
}
