/**
 * Same-key order across consumer processes, judged by when each process started a handler (its
 * own wall clock, printed with the id; one machine, one clock) — not by when its line reached
 * the harness: lines of two processes' pipes read in one turn of the event loop come in no
 * particular order, which once counted 18 "violations" that never happened.
 */
export interface Handling {
  key: string;
  seq: number;
  /** Which process. */
  by: number;
  /** When the handler started, ms since the epoch (fractional). */
  startedAt: number;
}

export interface KeyOrderFigures {
  /** Messages whose first handling started after that of a later message of their key. */
  violations: number;
  /** Per kill: from the kill until another process started a key the killed one had last. */
  handoverMs: number[];
}

export function keyOrderFigures(handlings: readonly Handling[], kills: readonly { victim: number; at: number }[]): KeyOrderFigures {
  // A message's first handling (a redelivered duplicate is not an order violation).
  const first = new Map<string, Handling>();
  for (const handling of handlings) {
    const id = `${handling.key}\u0000${handling.seq}`;
    const seen = first.get(id);
    if (!seen || handling.startedAt < seen.startedAt) first.set(id, handling);
  }
  const byKey = new Map<string, Handling[]>();
  for (const handling of first.values()) byKey.set(handling.key, [...(byKey.get(handling.key) ?? []), handling]);
  let violations = 0;
  for (const list of byKey.values()) {
    list.sort((a, b) => a.startedAt - b.startedAt);
    let highest = -1;
    for (const { seq } of list) {
      if (seq < highest) violations += 1;
      highest = Math.max(highest, seq);
    }
  }
  const handoverMs: number[] = [];
  for (const { victim, at } of kills) {
    let moved: number | undefined;
    for (const list of byKey.values()) {
      const before = list.filter((handling) => handling.startedAt <= at);
      if (before[before.length - 1]?.by !== victim) continue;
      const next = list.find((handling) => handling.startedAt > at && handling.by !== victim);
      if (next && (moved === undefined || next.startedAt < moved)) moved = next.startedAt;
    }
    if (moved !== undefined) handoverMs.push(Math.round(moved - at));
  }
  return { violations, handoverMs };
}

/** Ids of keyed runs end in `<key>:<seq>` (`k7:12`, `<queue>:k7:12`). */
export function keyAndSeqOf(id: string): { key: string; seq: number } {
  const parts = id.split(':');
  return { key: parts[parts.length - 2] as string, seq: Number(parts[parts.length - 1]) };
}

/** A key-mode worker's line: `<id> <handler start, ms since the epoch>`. */
export function parseKeyedLine(line: string): { id: string; startedAt?: number } {
  const [id, startedAt] = line.split(' ') as [string, string?];
  return startedAt === undefined ? { id } : { id, startedAt: Number(startedAt) };
}
