import type { EncodedMessage } from '@brokerkit/core/driver';
import { TopologyError } from '@brokerkit/core';

/** A message as one subscription holds it. */
export interface StoredMessage {
  readonly sequence: number;
  readonly message: EncodedMessage;
  readonly publishedAt: Date;
  deliveries: number;
}

export interface Lease {
  readonly token: number;
  readonly stored: StoredMessage;
  readonly owner: symbol;
  timer: NodeJS.Timeout;
}


/**
 * One subscription's messages: ready (in publish order), delayed, and leased to a consumer.
 * With key ordering, a key with a leased or delayed message is held: its later messages wait,
 * across every instance, so same-key order holds even through retries.
 *
 * Ordering belongs to the consumers attached, not to the declaration: a subscription declared
 * without consumers (`ensureQueue`) takes the ordering of the first one that attaches.
 */
export class MemorySubscription {
  private readonly ready: StoredMessage[] = [];
  private readonly delayed = new Map<StoredMessage, NodeJS.Timeout>();
  private readonly leases = new Map<number, Lease>();
  /** Keys with a leased or delayed message, whatever the ordering, so a change of it finds them right. */
  private readonly heldKeys = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private nextToken = 1;
  private ordering: 'none' | 'key' = 'none';
  private attached = 0;

  constructor(readonly name: string) {}

  /**
   * A consumer attaches with its ordering; the returned function detaches it. Consumers of one
   * subscription must agree on it: one that differs from those attached is a TopologyError.
   */
  attach(ordering: 'none' | 'key'): () => void {
    if (this.attached > 0 && ordering !== this.ordering) {
      throw new TopologyError(
        `subscription ${this.name} has ${this.attached} consumer(s) attached with ordering '${this.ordering}', asked for '${ordering}': close them first, or use another subscription`,
      );
    }
    this.ordering = ordering;
    this.attached += 1;
    let detached = false;
    return () => {
      if (detached) return;
      detached = true;
      this.attached -= 1;
    };
  }

  /** Messages not yet acked: ready, delayed and leased. */
  get depth(): number {
    return this.ready.length + this.delayed.size + this.leases.size;
  }

  enqueue(stored: StoredMessage): void {
    insertInOrder(this.ready, stored);
    this.wake();
  }

  /** Lease up to `max` ready messages to `owner` for `leaseMs`. */
  take(max: number, owner: symbol, leaseMs: number): Lease[] {
    const taken: Lease[] = [];
    const keysTakenNow = new Set<string>();
    for (let index = 0; index < this.ready.length && taken.length < max; ) {
      const stored = this.ready[index] as StoredMessage;
      const key = stored.message.key;
      if (key !== undefined && this.ordering === 'key' && (this.heldKeys.has(key) || keysTakenNow.has(key))) {
        index += 1;
        continue;
      }
      this.ready.splice(index, 1);
      if (key !== undefined) {
        keysTakenNow.add(key);
        this.holdKey(key);
      }
      stored.deliveries += 1;
      const token = this.nextToken++;
      const lease: Lease = { token, stored, owner, timer: setTimeout(() => this.expire(token), leaseMs) };
      this.leases.set(token, lease);
      taken.push(lease);
    }
    return taken;
  }

  /** Wait until something may be ready, at most `ms`. */
  waitForMessages(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  isLeased(token: number): boolean {
    return this.leases.has(token);
  }

  ack(token: number): StoredMessage | undefined {
    const lease = this.endLease(token);
    if (lease) this.releaseKey(lease.stored);
    return lease?.stored;
  }

  nack(token: number, delayMs: number): void {
    const lease = this.endLease(token);
    if (!lease) return;
    if (delayMs <= 0) {
      this.requeue(lease.stored);
      return;
    }
    const timer = setTimeout(() => {
      this.delayed.delete(lease.stored);
      this.requeue(lease.stored);
    }, delayMs);
    this.delayed.set(lease.stored, timer);
  }

  extend(token: number, leaseMs: number): boolean {
    const lease = this.leases.get(token);
    if (!lease) return false;
    clearTimeout(lease.timer);
    lease.timer = setTimeout(() => this.expire(token), leaseMs);
    return true;
  }

  /** A connection dropped: everything it held is redelivered at once. */
  releaseOwner(owner: symbol): void {
    for (const lease of [...this.leases.values()]) {
      if (lease.owner === owner) this.nack(lease.token, 0);
    }
  }

  /** Stop every timer; the subscription is gone. */
  dispose(): void {
    for (const lease of this.leases.values()) clearTimeout(lease.timer);
    for (const timer of this.delayed.values()) clearTimeout(timer);
    this.leases.clear();
    this.delayed.clear();
    this.ready.length = 0;
    this.wake();
  }

  private expire(token: number): void {
    const lease = this.endLease(token);
    if (lease) this.requeue(lease.stored);
  }

  private endLease(token: number): Lease | undefined {
    const lease = this.leases.get(token);
    if (!lease) return undefined;
    clearTimeout(lease.timer);
    this.leases.delete(token);
    return lease;
  }

  /** Back to ready in publish order; its key stays held no longer. */
  private requeue(stored: StoredMessage): void {
    this.releaseKey(stored);
    this.enqueue(stored);
  }

  private holdKey(key: string): void {
    this.heldKeys.set(key, (this.heldKeys.get(key) ?? 0) + 1);
  }

  private releaseKey(stored: StoredMessage): void {
    const key = stored.message.key;
    if (key === undefined) return;
    const count = (this.heldKeys.get(key) ?? 0) - 1;
    if (count > 0) {
      this.heldKeys.set(key, count);
      return;
    }
    this.heldKeys.delete(key);
    // Messages waiting behind this key are deliverable now.
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

function insertInOrder(list: StoredMessage[], stored: StoredMessage): void {
  let index = list.length;
  while (index > 0 && (list[index - 1] as StoredMessage).sequence > stored.sequence) index -= 1;
  list.splice(index, 0, stored);
}
