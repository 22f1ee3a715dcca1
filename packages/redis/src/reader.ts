import type { Delivery, DriverSubscription } from '@brokerkit/core/driver';
import type { Redis } from 'ioredis';

/**
 * What both subscription kinds share: a dedicated connection for blocking reads, a buffer of
 * deliveries that became due (retries), and a way to cut a blocking read short with
 * `CLIENT UNBLOCK` — so a due retry or a close never waits for the block timeout.
 */
export abstract class BlockingReader implements DriverSubscription {
  protected readonly ready: Delivery[] = [];
  protected readonly timers = new Set<NodeJS.Timeout>();
  protected closed = false;
  private blockingId: number | undefined;
  /** The signal listened to, and whether a blocking read is under way for it to cut short. */
  private watched: AbortSignal | undefined;
  private reading = false;

  constructor(
    protected readonly commands: Redis,
    protected readonly blocking: Redis,
  ) {}

  async start(): Promise<void> {
    this.blockingId = Number(await this.blocking.client('ID'));
  }

  /**
   * Due retries first, then whatever `collect` finds without waiting; only when nothing is
   * there, a blocking read — which an abort or a new due retry cuts short.
   */
  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const out = this.ready.splice(0, max);
    if (out.length < max) out.push(...(await this.collect(max - out.length)));
    if (out.length > 0 || signal.aborted || this.closed) return out;
    this.watch(signal);
    this.reading = true;
    try {
      return await this.readBlocking(max);
    } finally {
      this.reading = false;
    }
  }

  /** Deliveries available without blocking (none by default). */
  protected async collect(_max: number): Promise<Delivery[]> {
    return [];
  }

  /** A bounded blocking read of new entries on the dedicated connection. */
  protected abstract readBlocking(max: number): Promise<Delivery[]>;

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.unblock();
    this.blocking.disconnect();
  }

  /** Run `action` after `ms`, unless the subscription closed first. */
  protected later(ms: number, action: () => Promise<void>): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) void action().catch(() => undefined);
    }, ms);
    this.timers.add(timer);
  }

  protected makeReady(delivery: Delivery): void {
    this.ready.push(delivery);
    void this.unblock();
  }

  protected async unblock(): Promise<void> {
    if (this.blockingId === undefined) return;
    try {
      await this.commands.client('UNBLOCK', this.blockingId, 'TIMEOUT');
    } catch {
      // The connection may be gone already; the block times out by itself.
    }
  }

  /**
   * Abort cuts a blocking read short. One listener per signal, not one per read: the runner
   * passes the same signal to every receive. Adding and removing a listener for each read cost
   * about 10 µs per message at a paced 200 msg/s, where every read runs on a cold CPU.
   */
  private watch(signal: AbortSignal): void {
    if (signal === this.watched) return;
    this.watched = signal;
    signal.addEventListener('abort', () => void (this.reading && this.watched === signal && this.unblock()), { once: true });
  }
}
