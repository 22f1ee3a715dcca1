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

export class PartitionTracker {
  /** First offset not known to be done: what a commit records. */
  private committed: bigint;
  private readonly states = new Map<bigint, 'in-flight' | 'done'>();
  /** Next offset the fetch is expected to return; a jump past it is a gap (compaction, transaction markers). */
  private nextFetch: bigint;
  /** Offset ranges [from, to) the log does not hold: treated as done. */
  private gaps: [bigint, bigint][] = [];
  /** Highest offset handed to a handler; -1n: none. */
  private deliveredUpTo: bigint;
  /** Offsets up to this one were handed out by an earlier owner … */
  private readonly inheritedUpTo: bigint;
  /** … this many extra times. */
  private readonly inheritedExtra: number;
  /** Highest offset a commit's mark covers (marks cover everything fetched, so one serves a whole batch). */
  private markedUpTo: bigint;
  /** Highest offset accepted from a fetch. */
  private fetchedUpTo = -1n;

  constructor(committed: bigint, metadata: string | null | undefined) {
    this.committed = committed;
    this.nextFetch = committed;
    const previous = parseMark(metadata);
    this.inheritedUpTo = previous && previous.d >= committed ? previous.d : -1n;
    this.inheritedExtra = previous && previous.d >= committed ? previous.n + 1 : 0;
    this.deliveredUpTo = this.inheritedUpTo;
    this.markedUpTo = -1n;
  }

  /**
   * A fetched offset, in log order. False when it is already done or in flight here (a
   * re-fetch after a rebalance or a resume). Offsets the fetch jumped over are gaps.
   */
  accept(offset: bigint): boolean {
    if (offset > this.nextFetch) this.gaps.push([this.nextFetch, offset]);
    if (offset >= this.nextFetch) this.nextFetch = offset + 1n;
    if (offset < this.committed || this.states.has(offset)) return false;
    this.states.set(offset, 'in-flight');
    if (offset > this.fetchedUpTo) this.fetchedUpTo = offset;
    return true;
  }

  /** Record that `offset` is handed to a handler; returns how many earlier deliveries it had. */
  deliver(offset: bigint): number {
    if (offset > this.deliveredUpTo) this.deliveredUpTo = offset;
    return offset <= this.inheritedUpTo ? this.inheritedExtra : 0;
  }

  /** Forget an accepted offset without finishing it: a later fetch from the committed offset hands it out again. */
  release(offset: bigint): void {
    if (this.states.get(offset) === 'in-flight') this.states.delete(offset);
  }

  /** Mark done; true when the committed offset moved. */
  complete(offset: bigint): boolean {
    if (offset < this.committed) return false;
    this.states.set(offset, 'done');
    const before = this.committed;
    for (;;) {
      if (this.states.get(this.committed) === 'done') {
        this.states.delete(this.committed);
        this.committed += 1n;
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

  get committedOffset(): bigint {
    return this.committed;
  }
}

function parseMark(metadata: string | null | undefined): { d: bigint; n: number } | undefined {
  if (!metadata) return undefined;
  try {
    const parsed = JSON.parse(metadata) as { d?: unknown; n?: unknown };
    if (typeof parsed.d !== 'string' || typeof parsed.n !== 'number') return undefined;
    return { d: BigInt(parsed.d), n: parsed.n };
  } catch {
    return undefined;
  }
}
