import type { OutgoingMessage } from '@brokerkit/core';
import type { CheckContext, Figures } from './types.js';

/** Poll `condition` (which may ask a broker) every `everyMs` (20) until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

/** Records deliveries by message id: what arrived, how often, and in which order. */
export class Tally {
  private readonly counts = new Map<string, number>();
  readonly order: string[] = [];

  record(id: string): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
    this.order.push(id);
  }

  /** Distinct ids received. */
  get distinct(): number {
    return this.counts.size;
  }

  get total(): number {
    return this.order.length;
  }

  has(id: string): boolean {
    return this.counts.has(id);
  }

  /** Deliveries beyond the first of each id. */
  get duplicates(): number {
    return this.total - this.distinct;
  }

  missingFrom(expected: Iterable<string>): string[] {
    return [...expected].filter((id) => !this.counts.has(id));
  }

  unexpected(expected: Set<string>): string[] {
    return [...this.counts.keys()].filter((id) => !expected.has(id));
  }

  hasAll(expected: Iterable<string>): boolean {
    return this.missingFrom(expected).length === 0;
  }
}

/** Tracks how many handlers run at once. */
export class ConcurrencyGauge {
  active = 0;
  max = 0;

  async around<T>(work: () => Promise<T>): Promise<T> {
    this.active += 1;
    this.max = Math.max(this.max, this.active);
    try {
      return await work();
    } finally {
      this.active -= 1;
    }
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Wait `ms`; a moment already past resolves at once (a negative timeout makes Node warn). */
export const pause = (ms: number): Promise<void> => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

/** Build an outcome: pass when every listed problem is absent, else fail naming them. */
export function verdict(figures: Figures, problems: (string | false | undefined)[]): { status: 'pass' | 'fail'; reason?: string; figures: Figures } {
  const found = problems.filter((p): p is string => typeof p === 'string');
  return found.length === 0 ? { status: 'pass', figures } : { status: 'fail', reason: found.join('; '), figures };
}

/** `keys` × `perKey` keyed messages, keys interleaved, each key's in publish order: id `<queue>-k<k>-<seq>`, key `key-<k>`, body `{ seq }`. */
export function keyedMessages(queue: string, keys: number, perKey: number): { id: string; key: string; body: { seq: number } }[] {
  const messages = [];
  for (let seq = 0; seq < perKey; seq += 1) {
    for (let k = 0; k < keys; k += 1) messages.push({ id: `${queue}-k${k}-${seq}`, key: `key-${k}`, body: { seq } });
  }
  return messages;
}

/** Send `messages` in one batch from a fresh connection, wait until `tally` has them all (or `timeoutMs`); how many never arrived. */
export async function sendAndAwaitAll(context: CheckContext, queue: string, messages: (OutgoingMessage & { id: string })[], tally: Tally, timeoutMs: number): Promise<number> {
  const sender = await context.open();
  await sender.producer().sendBatch(queue, messages);
  const ids = messages.map((message) => message.id);
  await waitUntil(() => tally.hasAll(ids), timeoutMs);
  return tally.missingFrom(ids).length;
}
