/** How long `take()` waits for an item before returning empty (the receive loop calls again). */
const DEFAULT_IDLE_WAIT_MS = 1_000;

/**
 * Bridges a push client (callbacks per message: amqplib, kafkajs, @google-cloud/pubsub) to the
 * driver interface's pull (`receive(max, signal)`): pushes are buffered in order, `take()`
 * waits for the first one within a bounded time, and a failure reported by the client is
 * thrown by the next `take()` so the portable layer reports it.
 */
export class PushBuffer<T> {
  private items: T[] = [];
  private wake: (() => void) | undefined;
  /**
   * One timer per buffer, re-armed with refresh() at each wait, and one abort listener per
   * signal: a consumer that keeps up waits once per message or so, and a timer plus a listener
   * made and removed per wait cost more than the rest of take().
   */
  private idleTimer: NodeJS.Timeout | undefined;
  private listening: AbortSignal | undefined;
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly idleWaitMs = DEFAULT_IDLE_WAIT_MS) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wakeUp();
  }

  /** Remember a failure for the next `take()`, and wake it. */
  fail(error: Error): void {
    this.failure = error;
    this.wakeUp();
  }

  /** Up to `max` items; waits up to the idle time for the first. Empty once closed or aborted. */
  async take(max: number, signal: AbortSignal): Promise<T[]> {
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    if (this.items.length === 0 && !signal.aborted && !this.closed) {
      if (signal !== this.listening) {
        this.listening = signal;
        signal.addEventListener('abort', () => this.wakeUp(), { once: true });
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        // Fires idleWaitMs after the latest wait began; a firing with nobody waiting does nothing.
        if (this.idleTimer === undefined) this.idleTimer = setTimeout(() => this.wakeUp(), this.idleWaitMs);
        else this.idleTimer.refresh();
      });
    }
    if (signal.aborted || this.closed) return [];
    return this.items.splice(0, max);
  }

  /** Keep only the items `keep` accepts (e.g. after a rebalance); returns the others. */
  retain(keep: (item: T) => boolean): T[] {
    const dropped = this.items.filter((item) => !keep(item));
    this.items = this.items.filter(keep);
    return dropped;
  }

  /** Stop: wake a waiting `take()`, refuse further pushes, and hand back what was never taken. */
  close(): T[] {
    this.closed = true;
    clearTimeout(this.idleTimer);
    this.wakeUp();
    const left = this.items;
    this.items = [];
    return left;
  }

  /** Empty without closing (a new channel after a reconnect); returns what was dropped. */
  clear(): T[] {
    const left = this.items;
    this.items = [];
    return left;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
