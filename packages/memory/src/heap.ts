/** A binary min-heap: push and pop in O(log n), the smallest first as `before` orders them. */
export class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    let index = items.length;
    items.push(item);
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(item, items[parent] as T)) break;
      items[index] = items[parent] as T;
      index = parent;
    }
    items[index] = item;
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && this.before(items[right] as T, items[left] as T) ? right : left;
      if (!this.before(items[child] as T, last)) break;
      items[index] = items[child] as T;
      index = child;
    }
    items[index] = last;
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

interface Entry<T> {
  item: T;
  dueAt: number;
}
const earlier = <T>(a: Entry<T>, b: Entry<T>): boolean => a.dueAt < b.dueAt;
/** Stale entries tolerated before the first sweep. */
const SWEEP_FLOOR = 1_024;

/**
 * Many deadlines on one timer: the earliest is armed, and each entry still current is handed to
 * `onDue` once its time has passed. Nothing is cancelled one by one: an entry whose item was
 * settled or rescheduled since is no longer `isCurrent` and is skipped, so extending a lease
 * costs a push, not a timer. Stale entries are swept out whenever the heap has grown four
 * times past what the last sweep kept, so it holds about as many entries as there are live
 * items (messages in flight), not one per message ever scheduled.
 */
export class Timeline<T> {
  private entries = new MinHeap<Entry<T>>(earlier);
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Number.POSITIVE_INFINITY;
  private sweepAt = SWEEP_FLOOR;

  constructor(
    private readonly isCurrent: (item: T, dueAt: number) => boolean,
    private readonly onDue: (item: T) => void,
  ) {}

  get pending(): number {
    return this.entries.size;
  }

  schedule(item: T, dueAt: number): void {
    this.entries.push({ item, dueAt });
    if (this.entries.size > this.sweepAt) this.sweep();
    if (dueAt < this.armedFor) this.arm(dueAt);
  }

  private sweep(): void {
    const kept = new MinHeap<Entry<T>>(earlier);
    for (let next = this.entries.pop(); next !== undefined; next = this.entries.pop()) if (this.isCurrent(next.item, next.dueAt)) kept.push(next);
    this.entries = kept;
    this.sweepAt = Math.max(SWEEP_FLOOR, 4 * kept.size);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    this.entries = new MinHeap<Entry<T>>(earlier);
    this.sweepAt = SWEEP_FLOOR;
  }

  private arm(dueAt: number): void {
    clearTimeout(this.timer);
    this.armedFor = dueAt;
    this.timer = setTimeout(() => this.fire(), Math.max(0, dueAt - performance.now()));
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    for (let next = this.entries.peek(); next !== undefined && next.dueAt <= now; next = this.entries.peek()) {
      this.entries.pop();
      if (this.isCurrent(next.item, next.dueAt)) this.onDue(next.item);
    }
    const next = this.entries.peek();
    if (next !== undefined) this.arm(next.dueAt);
  }
}
