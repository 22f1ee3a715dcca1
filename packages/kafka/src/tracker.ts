/**
 * What one consumer knows about one partition it owns: which fetched offsets are in flight and
 * which are done. The committed offset only ever moves to the end of the contiguous done
 * prefix, so a message is never committed before its handler finished, and after a crash the
 * next owner re-reads exactly what was unfinished (plus finished ones behind an unfinished one).
 *
 * Kafka counts no deliveries, so the commit also carries metadata `{"d": D, "n": N}`: offsets
 * from the committed one up to D were handed to a handler, N extra times. The next owner reads
 * it and counts those offsets' attempt one higher: after a crash the attempt grows. It is an
 * approximation: a mark covers everything fetched (so one commit serves a whole batch), and
 * offsets after a redelivered one inherit its count, so a crash can over-count, never under-count.
 */
export interface CommitMark {
  offset: string;
  metadata: string;
}

/**
 * Offsets are plain numbers: exact up to 2^53 (at a million records a second, 285 years of one
 * partition), and cheaper than BigInt, whose every `+ 1n` allocates and whose Map keys hash by value.
 */
export class PartitionTracker {
  /** First offset not known to be done: what a commit records. */
  private committed: number;
  private readonly states = new Map<number, 'in-flight' | 'done'>();
  /** Next offset the fetch is expected to return; a jump past it is a gap (compaction, transaction markers). */
  private nextFetch: number;
  /** Offset ranges [from, to) the log does not hold: treated as done. */
  private gaps: [number, number][] = [];
  /** Highest offset handed to a handler; -1: none. */
  private deliveredUpTo: number;
  /** Offsets up to this one were handed out by an earlier owner … */
  private readonly inheritedUpTo: number;
  /** … this many extra times. */
  private readonly inheritedExtra: number;
  /** Highest offset a commit's mark covers (marks cover everything fetched, so one serves a whole batch). */
  private markedUpTo: number;
  /** Highest offset accepted from a fetch. */
  private fetchedUpTo = -1;

  constructor(committed: number, metadata: string | null | undefined) {
    this.committed = checkedOffset(committed);
    this.nextFetch = committed;
    const previous = parseMark(metadata);
    this.inheritedUpTo = previous && previous.d >= committed ? previous.d : -1;
    this.inheritedExtra = previous && previous.d >= committed ? previous.n + 1 : 0;
    this.deliveredUpTo = this.inheritedUpTo;
    this.markedUpTo = -1;
  }

  /**
   * A fetched offset, in log order. False when it is already done or in flight here (a
   * re-fetch after a rebalance or a resume). Offsets the fetch jumped over are gaps.
   */
  accept(offset: number): boolean {
    checkedOffset(offset);
    if (offset > this.nextFetch) this.gaps.push([this.nextFetch, offset]);
    if (offset >= this.nextFetch) this.nextFetch = offset + 1;
    if (offset < this.committed || this.states.has(offset)) return false;
    this.states.set(offset, 'in-flight');
    if (offset > this.fetchedUpTo) this.fetchedUpTo = offset;
    return true;
  }

  /** Record that `offset` is handed to a handler; returns how many earlier deliveries it had. */
  deliver(offset: number): number {
    if (offset > this.deliveredUpTo) this.deliveredUpTo = offset;
    return offset <= this.inheritedUpTo ? this.inheritedExtra : 0;
  }

  /** Forget an accepted offset without finishing it: a later fetch from the committed offset hands it out again. */
  release(offset: number): void {
    if (this.states.get(offset) === 'in-flight') this.states.delete(offset);
  }

  /** Mark done; true when the committed offset moved. */
  complete(offset: number): boolean {
    if (offset < this.committed) return false;
    this.states.set(offset, 'done');
    const before = this.committed;
    for (;;) {
      if (this.states.get(this.committed) === 'done') {
        this.states.delete(this.committed);
        this.committed += 1;
        continue;
      }
      const gap = this.gaps.find(([from, to]) => from <= this.committed && this.committed < to);
      if (!gap) break;
      this.committed = gap[1];
    }
    this.gaps = this.gaps.filter(([, to]) => to > this.committed);
    return this.committed !== before;
  }

  /** True when offsets were handed out since the last recorded mark. */
  needsMark(): boolean {
    return this.deliveredUpTo > this.markedUpTo && this.deliveredUpTo >= this.committed;
  }

  /** What to commit now: the done prefix and what was handed out beyond it. */
  mark(): CommitMark {
    const upTo = this.deliveredUpTo > this.fetchedUpTo ? this.deliveredUpTo : this.fetchedUpTo;
    if (upTo > this.markedUpTo) this.markedUpTo = upTo;
    const pending = this.markedUpTo >= this.committed;
    const extra = pending && this.inheritedUpTo >= this.committed ? this.inheritedExtra : 0;
    return { offset: String(this.committed), metadata: pending ? JSON.stringify({ d: String(this.markedUpTo), n: extra }) : '' };
  }

  get committedOffset(): number {
    return this.committed;
  }
}

function parseMark(metadata: string | null | undefined): { d: number; n: number } | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { d?: unknown; n?: unknown };
    const d = typeof parsed.d === 'string' ? Number(parsed.d) : NaN;
    if (!Number.isSafeInteger(d) || typeof parsed.n !== 'number') return undefined;
    return { d, n: parsed.n };
  } catch {
    return undefined;
  }
}

function checkedOffset(offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`Kafka offset ${offset} is not an integer in [0, 2^53)`);
  return offset;
}
