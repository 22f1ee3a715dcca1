import type { Delivery } from '../contract/driver.js';

/** What the keeper reads and writes of a message an instance holds. */
export interface KeptLease {
  readonly delivery: Delivery;
  readonly settled: boolean;
  /** Being processed (not waiting for its key's turn): its lease is kept. */
  readonly active: boolean;
  /** When its lease was last granted or extended (ms, monotonic; 0 where the driver cannot extend). */
  extendedAt: number;
}

/**
 * Keeps the leases of messages being processed: one timer per instance (not one per message)
 * extends, where the driver can, every lease that is half an ack timeout old, so a lease is
 * renewed at most 0.75 × ackTimeoutMs after the last.
 */
export class LeaseKeeper {
  private clock: NodeJS.Timeout | undefined;

  constructor(
    private readonly leases: Iterable<KeptLease>,
    private readonly ackTimeoutMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    const everyMs = Math.max(50, Math.floor(this.ackTimeoutMs / 2));
    this.clock = setInterval(() => this.extendDue(everyMs), Math.max(25, Math.floor(everyMs / 2)));
    // Handlers at work keep the process alive by themselves; an idle clock must not.
    this.clock.unref();
  }

  /** A handler that never returns must not keep its lease alive after a crash, a close timeout or a close. */
  stop(): void {
    clearInterval(this.clock);
    this.clock = undefined;
  }

  private extendDue(everyMs: number): void {
    const now = performance.now();
    for (const lease of this.leases) {
      if (lease.settled || !lease.active || !lease.delivery.extendLease || now - lease.extendedAt < everyMs) continue;
      lease.extendedAt = now;
      lease.delivery.extendLease(this.ackTimeoutMs).catch(this.onError);
    }
  }
}
