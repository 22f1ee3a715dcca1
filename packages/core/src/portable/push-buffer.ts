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
  private failure: Error | undefined;
  private closed = false;

  constructor(private readonly idleWaitMs = DEFAULT_IDLE_WAIT_MS) {}

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.wake?.();
  }

  /** Remember a failure for the next `take()`, and wake it. */
  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  /** Up to `max` items; waits up to the idle time for the first. Empty once closed or aborted. */
  async take(max: number, signal: AbortSignal): Promise<T[]> {
    if (this.failure) {
      const failure = this.failure;
      this.failure = undefined;
      throw failure;
    }
    if (this.items.length === 0 && !signal.aborted && !this.closed) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.idleWaitMs);
        signal.addEventListener('abort', done, { once: true });
        this.wake = done;
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
    this.wake?.();
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
}

