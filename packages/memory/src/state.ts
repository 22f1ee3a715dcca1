import type { EncodedMessage } from '@brokerkit/core/driver';
import { TopologyError } from '@brokerkit/core';
import { MinHeap, Timeline } from './heap.js';

/** A message as one subscription holds it. */
export interface StoredMessage {
  readonly sequence: number;
  readonly message: EncodedMessage;
  /** Epoch ms: a number, not a Date, as a backlog of a million keeps one per message. */
  readonly publishedAtMs: number;
  deliveries: number;
}

export interface Lease {
  readonly token: number;
  readonly stored: StoredMessage;
  readonly owner: symbol;
  /** When the lease runs out (performance.now() ms); moved by each extension. */
  expiresAt: number;
}

/** Fresh messages past this many taken ones are compacted away (the array is not shifted per take). */
const COMPACT_AFTER = 4_096;

/**
 * One subscription's messages: ready (in publish order), delayed, and leased to a consumer.
 * With key ordering, a key with a leased or delayed message is held: its later messages wait,
 * across every instance, so same-key order holds even through retries.
 *
 * Every operation costs the same at any backlog: fresh messages are taken from the front of
 * an array by an index; messages handed back (a retry, an expired lease) wait in a heap by
 * publish order and are taken before later fresh ones; a message whose key is held waits in
 * that key's own list until the key is released; lease expiries and delayed retries share one
 * timer each, not one per message.
 *
 * Ordering belongs to the consumers attached, not to the declaration: a subscription declared
 * without consumers (`ensureQueue`) takes the ordering of the first one that attaches.
 */
export class MemorySubscription {
  private fresh: StoredMessage[] = [];
  private freshHead = 0;
  private readonly returned = new MinHeap<StoredMessage>((a, b) => a.sequence < b.sequence);
  /** Key-ordered: messages taken while their key was held, per key in publish order. */
  private readonly blocked = new Map<string, StoredMessage[]>();
  private blockedCount = 0;
  private readonly delayed = new Set<StoredMessage>();
  private readonly leases = new Map<number, Lease>();
  /** Keys with a leased or delayed message, whatever the ordering, so a change of it finds them right. */
  private readonly heldKeys = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly leaseExpiries = new Timeline<Lease>(
    (lease, dueAt) => this.leases.get(lease.token) === lease && lease.expiresAt === dueAt,
    (lease) => this.expire(lease.token),
  );
  private readonly retriesDue = new Timeline<StoredMessage>(
    (stored) => this.delayed.has(stored),
    (stored) => {
      this.delayed.delete(stored);
      if (this.delayed.size === 0) this.retriesDue.clear();
      this.requeue(stored);
    },
  );
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
    if (ordering === 'none') for (const key of [...this.blocked.keys()]) this.unblock(key);
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
    return this.fresh.length - this.freshHead + this.returned.size + this.blockedCount + this.delayed.size + this.leases.size;
  }

  /** When the oldest message not yet acked was published (epoch ms), if any. */
  get oldestPublishedAtMs(): number | undefined {
    let oldest = this.fresh[this.freshHead]?.publishedAtMs ?? Infinity;
    oldest = Math.min(oldest, this.returned.peek()?.publishedAtMs ?? Infinity);
    for (const list of this.blocked.values()) oldest = Math.min(oldest, list[0]?.publishedAtMs ?? Infinity);
    for (const stored of this.delayed) oldest = Math.min(oldest, stored.publishedAtMs);
    for (const lease of this.leases.values()) oldest = Math.min(oldest, lease.stored.publishedAtMs);
    return Number.isFinite(oldest) ? oldest : undefined;
  }

  /** A message just published: later than everything held, so it goes last. */
  enqueue(stored: StoredMessage): void {
    this.fresh.push(stored);
    this.wake();
  }

  /** Lease up to `max` ready messages to `owner` for `leaseMs`. */
  take(max: number, owner: symbol, leaseMs: number): Lease[] {
    const taken: Lease[] = [];
    const expiresAt = performance.now() + leaseMs;
    while (taken.length < max) {
      const stored = this.nextReady();
      if (stored === undefined) break;
      const key = stored.message.key;
      if (key !== undefined) {
        if (this.ordering === 'key' && this.heldKeys.has(key)) {
          this.block(key, stored);
          continue;
        }
        this.holdKey(key);
      }
      stored.deliveries += 1;
      const lease: Lease = { token: this.nextToken++, stored, owner, expiresAt };
      this.leases.set(lease.token, lease);
      this.leaseExpiries.schedule(lease, expiresAt);
      taken.push(lease);
    }
    this.compactFresh();
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
    this.delayed.add(lease.stored);
    this.retriesDue.schedule(lease.stored, performance.now() + delayMs);
  }

  extend(token: number, leaseMs: number): boolean {
    const lease = this.leases.get(token);
    if (!lease) return false;
    lease.expiresAt = performance.now() + leaseMs;
    this.leaseExpiries.schedule(lease, lease.expiresAt);
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
    this.leaseExpiries.clear();
    this.retriesDue.clear();
    this.leases.clear();
    this.delayed.clear();
    this.fresh = [];
    this.freshHead = 0;
    this.returned.clear();
    this.blocked.clear();
    this.blockedCount = 0;
    this.wake();
  }

  private expire(token: number): void {
    const lease = this.endLease(token);
    if (lease) this.requeue(lease.stored);
  }

  private endLease(token: number): Lease | undefined {
    const lease = this.leases.get(token);
    if (!lease) return undefined;
    this.leases.delete(token);
    // No lease left: every entry of the timeline is stale. Dropping them now, not at the next
    // sweep, leaves no settled message reachable from an idle subscription.
    if (this.leases.size === 0) this.leaseExpiries.clear();
    return lease;
  }

  /** Back to ready in publish order; its key stays held no longer. */
  private requeue(stored: StoredMessage): void {
    this.releaseKey(stored);
    this.returned.push(stored);
    this.wake();
  }

  /** The ready message published first: a handed-back one, or the next fresh one. */
  private nextReady(): StoredMessage | undefined {
    const fresh = this.fresh[this.freshHead];
    const returned = this.returned.peek();
    if (returned !== undefined && (fresh === undefined || returned.sequence < fresh.sequence)) return this.returned.pop();
    if (fresh === undefined) return undefined;
    this.fresh[this.freshHead] = undefined as unknown as StoredMessage;
    this.freshHead += 1;
    return fresh;
  }

  private compactFresh(): void {
    if (this.freshHead === this.fresh.length) {
      this.fresh = [];
      this.freshHead = 0;
    } else if (this.freshHead > COMPACT_AFTER && this.freshHead * 2 > this.fresh.length) {
      this.fresh = this.fresh.slice(this.freshHead);
      this.freshHead = 0;
    }
  }

  private block(key: string, stored: StoredMessage): void {
    const waiting = this.blocked.get(key);
    if (waiting === undefined) this.blocked.set(key, [stored]);
    else waiting.push(stored);
    this.blockedCount += 1;
  }

  /** The key is free: what waited behind it is ready again, in publish order. */
  private unblock(key: string): void {
    const waiting = this.blocked.get(key);
    if (waiting === undefined) return;
    this.blocked.delete(key);
    this.blockedCount -= waiting.length;
    for (const stored of waiting) this.returned.push(stored);
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
    this.unblock(key);
    this.wake();
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
