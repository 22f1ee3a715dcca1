import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { ConnectionError, describeError } from '@brokerkit/core';
import { OncePerKey, PushBuffer, type Delivery, type DriverSubscription, type EncodedMessage, type SubscriptionSpec } from '@brokerkit/core/driver';
import { PartitionTracker } from './tracker.js';
import type { KafkaTopology } from './topology.js';
import { fromRecord, type CopyInfo } from './wire.js';

/** Where a durable subscription's delayed retries go: the topics it also reads, and how to write a copy there. */
export interface RetryRoute {
  /** `<subscription>.retry`; for core's delay mover, its stage topics. */
  topics: string[];
  /** Retries due sooner than this wait in the process, their record uncommitted (0: none do). */
  holdUnderMs: number;
  send(delivery: Delivery, attempt: number, dueAt: number): Promise<void>;
}

const partitionKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;
const JOIN_TIMEOUT_MS = 30_000;
/** While the buffer is full, heartbeat this often (the session timeout is 10 s). */
const HEARTBEAT_WHILE_FULL_MS = 1_000;

/**
 * One consumer-group member. kafkajs pushes batches per partition; they are buffered here and
 * pulled by the portable layer's receive loop; a full buffer holds kafkajs' batch until it drains.
 * Offsets are committed by `PartitionTracker`s: only the finished prefix, with a mark of what
 * was handed out, so the next owner after a crash knows the attempt grew.
 */
export class KafkaSubscription implements DriverSubscription {
  private readonly consumer: Consumer;
  private readonly trackers = new Map<string, Promise<PartitionTracker>>();
  /** Trackers of partitions this member owns now (a revoked partition's tracker leaves). */
  private readonly live = new Set<PartitionTracker>();
  /** Committed offsets per topic, read once per assignment (one admin call for all its partitions). */
  private committedNow = new OncePerKey<Map<number, { offset: string; metadata: string | null }>>();
  private readonly buffer = new PushBuffer<KafkaDelivery>();
  /** onBatch calls waiting for room in the buffer. */
  private fetchers: (() => void)[] = [];
  private closing = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Per partition, something fetched from it whose tracker has a commit to send. */
  private readonly dirty = new Map<PartitionTracker, KafkaDelivery>();
  private commitRunning: Promise<void> | undefined;
  private commitQueued: Promise<void> | undefined;
  private readonly highWater: number;
  readonly group: string;
  readonly topics: string[];

  constructor(
    private readonly kafka: Kafka,
    private readonly topology: KafkaTopology,
    private readonly spec: SubscriptionSpec,
    group: string,
    /** Absent for ephemeral subscriptions: their retries wait in the process. */
    private readonly retry: RetryRoute | undefined,
  ) {
    this.group = group;
    this.topics = retry ? [spec.topic, ...retry.topics] : [spec.topic];
    this.highWater = Math.max(64, spec.maxInFlight * 4);
    this.consumer = kafka.consumer({
      groupId: group,
      sessionTimeout: 10_000,
      rebalanceTimeout: 20_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 250,
      maxBytesPerPartition: 512 * 1024,
      allowAutoTopicCreation: false,
      retry: { retries: 8, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  /**
   * Connect, join the group, and resolve after the first fetch: by then this member has its
   * partitions and its positions (for an ephemeral group, the end of the log), so whatever is
   * sent after `subscribe()` resolves reaches it.
   */
  async start(): Promise<void> {
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    let hasJoined = false;
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.onAssignment(payload.memberAssignment);
      hasJoined = true;
    });
    this.consumer.on(this.consumer.events.FETCH, () => {
      if (hasJoined) joined();
    });
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.buffer.fail(new ConnectionError(`Kafka consumer of group ${this.group} stopped: ${describeError(payload.error)}`, { cause: payload.error }));
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.spec.durable });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 4,
      eachBatch: (payload) => this.onBatch(payload),
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      firstJoin.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), JOIN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      await this.consumer.disconnect().catch(() => undefined);
      throw new ConnectionError(`joining Kafka consumer group ${this.group} took over ${JOIN_TIMEOUT_MS} ms`);
    }
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const taken = await this.buffer.take(max, signal);
    if (this.closing) return [];
    if (this.buffer.length < this.highWater / 2) this.wakeFetchers();
    let marks = false;
    for (const delivery of taken) {
      delivery.handOut();
      marks ||= delivery.tracker.needsMark();
    }
    // Record what is handed out, for the next owner after a crash to count. The commit is sent
    // now but not waited for (it halves end-to-end latency): requests on one connection are
    // handled in order, so it lands before this member leaves the group; only a process killed
    // within those few milliseconds under-counts one delivery.
    if (this.spec.durable && marks) {
      for (const delivery of taken) this.dirty.set(delivery.tracker, delivery);
      void this.commit();
    }
    return taken;
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wakeFetchers();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const delivery of this.buffer.close()) delivery.tracker.release(delivery.offset);
    if (this.spec.durable) await this.commit().catch(() => undefined);
    await this.consumer.disconnect().catch(() => undefined);
    if (!this.spec.durable) await this.topology.deleteGroup(this.group);
  }

  /** Leave without committing anything more: what a crash looks like to the group (it leaves at once). */
  async abandon(): Promise<void> {
    this.closing = true;
    this.wakeFetchers();
    for (const timer of this.timers) clearTimeout(timer);
    this.buffer.close();
    await this.consumer.disconnect().catch(() => undefined);
  }

  private async onBatch({ batch, resolveOffset, pause, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const tracker = await this.trackerFor(batch.topic, batch.partition, batch.messages[0]?.offset);
    // The group's state (running, a seek, a close) changes only across an await: checked before
    // the loop and after each wait, not per record (each check builds kafkajs' partition key).
    const current = (): boolean => !this.closing && isRunning() && !isStale();
    if (!current()) return;
    // The offset to resolve when the loop ends: resolving once per batch, not per record, spares
    // kafkajs a Long parse and add per record; what is not resolved is fetched again.
    let resolved: string | undefined;
    const copy: CopyInfo = { attempt: 1, dueAt: 0 };
    for (const record of batch.messages) {
      if (this.buffer.length >= this.highWater && !((await this.waitForRoom(heartbeat, current)) && current())) break;
      const message = fromRecord(batch.topic, batch.partition, record, copy);
      const wait = copy.dueAt === 0 ? 0 : copy.dueAt - Date.now();
      if (wait > 0) {
        // A retry copy not due yet: stop this partition here (unresolved, so it is fetched again) until it is.
        const resume = pause();
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resume();
        }, wait);
        this.timers.add(timer);
        break;
      }
      const offset = Number(record.offset);
      if (tracker.accept(offset)) this.buffer.push(new KafkaDelivery(this, batch.topic, batch.partition, offset, record.offset, record.timestamp, tracker, message, copy.attempt));
      resolved = record.offset;
    }
    if (resolved !== undefined) resolveOffset(resolved);
  }

  /**
   * Backpressure inside the batch: with the buffer full, wait here (kafkajs fetches nothing more
   * for this partition until the batch returns), heartbeating so the group keeps this member.
   * Pausing the consumer instead stalled it: a 512 KiB fetch overshoots the buffer many times
   * over, and after a resume kafkajs fetches again only on a later loop (consume ran at 0.13 of
   * a raw kafkajs loop). Called with the batch still current. False: stop this batch (closing,
   * revoked, rebalancing); the records not yet taken are fetched again.
   */
  private async waitForRoom(heartbeat: () => Promise<void>, current: () => boolean): Promise<boolean> {
    while (this.buffer.length >= this.highWater) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          this.fetchers = this.fetchers.filter((waiting) => waiting !== wake);
          resolve();
        }, HEARTBEAT_WHILE_FULL_MS);
        this.fetchers.push(wake);
      });
      if (this.closing || !current()) return false;
      try {
        await heartbeat();
      } catch {
        return false; // a rebalance is under way: let kafkajs rejoin
      }
    }
    return true;
  }

  private wakeFetchers(): void {
    const waiting = this.fetchers;
    this.fetchers = [];
    for (const wake of waiting) wake();
  }

  private trackerFor(topic: string, partition: number, firstOffset: string | undefined): Promise<PartitionTracker> {
    const key = partitionKey(topic, partition);
    let tracker = this.trackers.get(key);
    if (!tracker) {
      tracker = this.readCommitted(topic, partition, firstOffset).then((created) => {
        if (this.trackers.get(key) === tracker) this.live.add(created);
        return created;
      });
      this.trackers.set(key, tracker);
      tracker.catch(() => this.trackers.delete(key));
    }
    return tracker;
  }

  private async readCommitted(topic: string, partition: number, firstOffset: string | undefined): Promise<PartitionTracker> {
    const fallback = Number(firstOffset ?? 0);
    if (!this.spec.durable) return new PartitionTracker(fallback, null);
    const entry = (await this.committedNow.get(topic, () => this.topology.committed(this.group, topic))).get(partition);
    const committed = entry && Number(entry.offset) >= 0 ? Number(entry.offset) : fallback;
    return new PartitionTracker(committed, entry?.metadata);
  }

  /** Partitions moved away: forget them, and drop what was fetched from them but not handed out. */
  private onAssignment(assignment: Record<string, number[]>): void {
    this.committedNow = new OncePerKey();
    const owned = new Set(Object.entries(assignment).flatMap(([topic, partitions]) => partitions.map((p) => partitionKey(topic, p))));
    for (const [key, tracker] of [...this.trackers]) {
      if (owned.has(key)) continue;
      this.trackers.delete(key);
      void tracker.then((revoked) => this.live.delete(revoked), () => undefined);
    }
    this.buffer.retain((delivery) => owned.has(partitionKey(delivery.topic, delivery.partition)));
  }

  /**
   * Give an unfinished delivery back: a retry (through the retry route for durable groups), or
   * a release on close. It waits in this process for ephemeral groups (deleted on close) and
   * where the route holds short waits: uncommitted, so a crash reads the record again.
   */
  async nack(delivery: KafkaDelivery, delayMs: number): Promise<void> {
    if (this.closing) {
      delivery.tracker.release(delivery.offset);
      return;
    }
    if (!this.retry || delayMs < this.retry.holdUnderMs) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (this.closing) return;
        this.buffer.push(delivery.again());
      }, delayMs);
      this.timers.add(timer);
      return;
    }
    await this.retry.send(delivery, delivery.attempt + 1, Date.now() + delayMs);
    this.complete(delivery);
  }

  /**
   * Mark done and send the commit the finished prefix allows. The ack does not wait for the
   * commit's reply (that would cost a round trip per handler slot); commits are issued at once,
   * in order, and close() waits for the last. A crash before it lands re-delivers the message:
   * at least once, as ever on Kafka.
   */
  complete(delivery: KafkaDelivery): void {
    if (!this.live.has(delivery.tracker)) return; // revoked: the new owner re-reads it
    if (delivery.tracker.complete(delivery.offset) && this.spec.durable) {
      // Keyed by tracker (one per partition and assignment): no key string built per message.
      this.dirty.set(delivery.tracker, delivery);
      void this.commit();
    }
  }

  /**
   * Commit every dirty partition's finished prefix and mark in one request. Calls during a
   * commit share the next one, which starts after it; a failed commit (a rebalance) leaves the
   * partitions dirty for the next — done work is never forgotten, only re-read after a crash.
   */
  private commit(): Promise<void> {
    if (this.commitQueued) return this.commitQueued;
    if (!this.commitRunning) return this.startCommit();
    this.commitQueued = this.commitRunning.then(() => {
      this.commitQueued = undefined;
      return this.startCommit();
    });
    return this.commitQueued;
  }

  private startCommit(): Promise<void> {
    const run: Promise<void> = this.runCommit().finally(() => {
      if (this.commitRunning === run) this.commitRunning = undefined;
    });
    this.commitRunning = run;
    return run;
  }

  private async runCommit(): Promise<void> {
    // A revoked partition's tracker is not committed: its new owner commits that partition.
    const entries = [...this.dirty.values()].filter((entry) => this.live.has(entry.tracker));
    this.dirty.clear();
    const offsets = entries.map(({ topic, partition, tracker }) => ({ topic, partition, ...tracker.mark() }));
    try {
      if (offsets.length > 0) await this.consumer.commitOffsets(offsets);
    } catch {
      for (const entry of entries) {
        if (this.live.has(entry.tracker) && !this.dirty.has(entry.tracker)) this.dirty.set(entry.tracker, entry);
      }
    }
  }
}

const SETTLED = Promise.resolve();

/**
 * One fetched record, from the buffer to its settlement: a class, not closures, since kafkajs
 * hands out records by the hundred thousand a second. `attempt` is fixed when handed out.
 */
class KafkaDelivery implements Delivery {
  attempt = 0;
  /** An in-process retry's attempt (ephemeral groups); 0: count from the record and the tracker. */
  private retryAttempt = 0;

  constructor(
    private readonly subscription: KafkaSubscription,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    private readonly offsetText: string,
    private readonly timestamp: string,
    readonly tracker: PartitionTracker,
    readonly message: EncodedMessage,
    /** The attempt a retry copy carries; 1 for an original record. */
    private readonly recordAttempt: number,
  ) {}

  /** When the record was written (a retry copy: when the copy was). */
  get publishedAt(): Date {
    return new Date(Number(this.timestamp));
  }

  get native(): { topic: string; partition: number; offset: string } {
    return { topic: this.topic, partition: this.partition, offset: this.offsetText };
  }

  /** Handed to the portable layer: count the attempt (earlier owners' deliveries included). */
  handOut(): void {
    const previous = this.tracker.deliver(this.offset);
    this.attempt = this.retryAttempt || this.recordAttempt + previous;
  }

  /** The same record for an in-process retry. */
  again(): KafkaDelivery {
    const copy = new KafkaDelivery(this.subscription, this.topic, this.partition, this.offset, this.offsetText, this.timestamp, this.tracker, this.message, this.recordAttempt);
    copy.retryAttempt = this.attempt + 1;
    return copy;
  }

  /** Done: the commit is sent, not awaited (see KafkaSubscription.complete). */
  ack(): Promise<void> {
    this.subscription.complete(this);
    return SETTLED;
  }

  nack(delayMs: number): Promise<void> {
    return this.subscription.nack(this, delayMs);
  }
}
