import { randomBytes } from 'node:crypto';
import { ownerOf, sleep, TurnBatcher, type Delivery, type EncodedMessage } from '@brokerkit/core/driver';
import { attemptsOf, deadLetterEntry, fieldsOf } from './group-subscription.js';
import { fromFields, publishedAtOf, type RawEntry } from './fields.js';
import { ORIGIN_FIELD, withPartitionCommands, type PartitionCommands, type PartitionKeys } from './partitions.js';
import { BlockingReader, BlockingRoute, blockingConnection, type RedisClient } from './reader.js';

const BLOCK_MS = 2_000;
/** How often an instance renews its membership and leases; a lease lapses after LEASE_MS unrenewed. */
const BEAT_MS = 500;
/** While partitions change hands, beats come this often, so a lease given up is taken at once. */
const QUICK_BEAT_MS = 50;
/** The longest an attaching instance waits for its share of the partitions (held by others until they finish what they have of them). */
const JOIN_WAIT_MS = 2_000;
const LEASE_MS = 3_000;
/** Entries the router moves per script run: bounds how long one run holds the server. */
const ROUTE_BATCH = 500;
/** Pending entries a new owner claims per round before reading new ones. */
const CLAIM_BATCH = 200;
const MAX_IDS_PER_XACK = 1_000;
/** Acknowledged entries are trimmed from the partitions this often (in beats). */
const TRIM_EVERY_BEATS = 4;
const ORIGIN_BYTES = Buffer.from(ORIGIN_FIELD);

/**
 * A partition as this instance sees it:
 * - free: another instance (or none) holds its lease;
 * - recovering: just leased; what the previous holder left pending is claimed and handed out
 *   first, in entry order, before any new entry is read;
 * - active: new entries are read;
 * - releasing: another live instance should own it; nothing new is read, and the lease is given
 *   up once what was handed out is settled.
 */
interface Partition {
  index: number;
  stream: string;
  lease: string;
  state: 'free' | 'recovering' | 'active' | 'releasing';
  open: number;
  claimedUpTo: string;
  /** The last entry this instance read of it: a blocking wait is for entries after it. */
  lastRead: string;
  /** This instance should own it, by the members of the last beat. */
  mine: boolean;
}

/**
 * One instance of a key-ordered subscription on Redis (see partitions.ts for the layout). It
 * takes part by heartbeats; each instance computes the same owner per partition from the live
 * members (`ownerOf`), takes the leases of its own when they are free, and gives up those
 * owned by another once it has finished what it holds of them. A crashed instance's leases
 * lapse after LEASE_MS; whoever takes one finishes the crashed instance's pending entries of
 * that partition, in order, before new ones — so a key is handled in one place at a time, in
 * order, across instances. The catch, as with any lease: an instance stalled past its lease
 * (a long GC pause, SIGSTOP) may still be running a handler when the next one starts.
 */
export class PartitionedSubscription extends BlockingReader {
  readonly instance: string;
  private readonly scripts: RedisClient & PartitionCommands;
  private readonly partitions: Partition[];
  private readonly acks = new TurnBatcher<{ stream: string; entryId: string }>(MAX_IDS_PER_XACK, async (items) => {
    const byStream = new Map<string, string[]>();
    for (const { stream, entryId } of items) byStream.set(stream, [...(byStream.get(stream) ?? []), entryId]);
    const pipeline = this.commands.pipeline();
    for (const [stream, ids] of byStream) pipeline.xack(stream, this.keys.group, ...ids);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([error]) => error);
    if (failed) throw failed[0];
  });
  private heartbeat: NodeJS.Timeout | undefined;
  private beating: Promise<void> = Promise.resolve();
  private renewedAt = 0;
  private beats = 0;
  private readonly router: Router;
  /** Resolves a wait for a change of partitions when none is readable. */
  private wake: (() => void) | undefined;

  constructor(
    commands: RedisClient,
    blocking: RedisClient,
    private readonly keys: PartitionKeys,
    consumerName: string,
  ) {
    super(commands, blocking, keys.topic);
    this.instance = `${consumerName}-${randomBytes(3).toString('hex')}`;
    this.scripts = withPartitionCommands(commands);
    this.partitions = keys.streams.map((stream, index) => ({ index, stream, lease: keys.leases[index] as string, state: 'free', open: 0, claimedUpTo: '-', lastRead: '0-0', mine: false }));
    this.router = new Router(this.scripts, blocking, keys, this.instance);
  }

  /** Join, and return once this instance holds its share of the partitions (or JOIN_WAIT_MS passed). */
  override async start(): Promise<void> {
    await super.start();
    await this.beat();
    this.scheduleBeat();
    const until = Date.now() + JOIN_WAIT_MS;
    while (this.inTransition() && Date.now() < until && !this.closed) await sleep(QUICK_BEAT_MS);
  }

  private scheduleBeat(): void {
    if (this.closed) return;
    this.heartbeat = setTimeout(() => {
      this.beating = this.beat()
        .catch(() => undefined)
        .finally(() => this.scheduleBeat());
    }, this.inTransition() ? QUICK_BEAT_MS : BEAT_MS);
    this.heartbeat.unref();
  }

  /** Some partition this instance should read is not readable yet, or one it holds is being handed on. */
  private inTransition(): boolean {
    return this.partitions.some((partition) => (partition.mine && partition.state === 'free') || partition.state === 'releasing');
  }

  override async close(): Promise<void> {
    clearTimeout(this.heartbeat);
    await super.close();
    await this.beating;
    this.acks.flush();
    await this.router.stop();
    // Leave: the leases go at once, and the others take them at their next beat.
    await this.scripts.bkBeat(1 + this.keys.leases.length + 1, this.keys.members, ...this.keys.leases, this.keys.router, this.instance, LEASE_MS, '1').catch(() => undefined);
    for (const partition of this.partitions) partition.state = 'free';
  }

  // ── reading ───────────────────────────────────────────────────────────────────────────

  /** A new holder's claims of what its predecessor left pending, before anything new. */
  protected override async collect(max: number): Promise<Delivery[]> {
    for (const partition of this.partitions) {
      if (partition.state !== 'recovering') continue;
      const found = await this.claimPending(partition, Math.min(max, CLAIM_BATCH));
      if (found.length > 0) return found;
    }
    return [];
  }

  /**
   * New entries of the partitions this instance reads, fenced by their leases (the READ script).
   * When there are none, a blocking XREAD waits for entries past the last one read here (only
   * this instance reads its partitions, so it knows where each stands); the next receive reads them.
   */
  protected async readBlocking(max: number): Promise<Delivery[]> {
    const active = this.partitions.filter((partition) => partition.state === 'active');
    if (active.length === 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, BLOCK_MS);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
      return [];
    }
    const [reply, lost] = await this.scripts.bkReadBuffer(2 * active.length, ...active.map((p) => p.lease), ...active.map((p) => p.stream), this.instance, this.keys.group, max);
    for (const position of lost) {
      const partition = active[position - 1] as Partition;
      // Not this instance's any more (lapsed, or lost in a failover): read nothing more of it.
      if (partition.state === 'active') partition.state = 'free';
    }
    const deliveries: Delivery[] = [];
    for (const [stream, entries] of reply) {
      const partition = this.partitions.find((each) => each.stream === stream.toString()) as Partition;
      for (const [id, fields] of entries) {
        partition.lastRead = id.toString();
        deliveries.push(this.toDelivery(partition, partition.lastRead, fields, 1));
      }
    }
    if (deliveries.length > 0) {
      // COUNT is per stream: what is over `max` waits, in order, for the next receive.
      this.ready.push(...deliveries.splice(max));
      return deliveries;
    }
    const waiting = active.filter((partition) => partition.state === 'active');
    if (waiting.length > 0) {
      await this.blocking.xread('COUNT', 1, 'BLOCK', BLOCK_MS, 'STREAMS', ...waiting.map((p) => p.stream), ...waiting.map((p) => p.lastRead));
    }
    return [];
  }

  /** Cut a blocking read short, or the wait for a partition when none is readable. */
  protected override async unblock(): Promise<void> {
    this.wake?.();
    await super.unblock();
  }

  private async claimPending(partition: Partition, count: number): Promise<Delivery[]> {
    const { group } = this.keys;
    const start = partition.claimedUpTo === '-' ? '-' : `(${partition.claimedUpTo}`;
    const pending = (await this.commands.xpending(partition.stream, group, start, '+', count)) as [string, string, number, number][];
    if (pending.length < count && partition.state === 'recovering') {
      partition.lastRead = await this.lastDelivered(partition.stream);
      partition.state = 'active';
      await this.forgetIdleConsumers(partition.stream);
    }
    if (pending.length === 0) return [];
    partition.claimedUpTo = (pending[pending.length - 1] as [string, string, number, number])[0];
    const claimed = ((await this.commands.callBuffer('XCLAIM', partition.stream, group, this.instance, 0, ...pending.map(([id]) => id))) as (RawEntry | null)[]).filter(
      (entry): entry is RawEntry => entry !== null,
    );
    // Claimed in entry order (XCLAIM answers in the order asked), so a key's entries stay in order.
    const attempts = await attemptsOf(this.commands, partition.stream, group, claimed);
    return claimed.map(([id, fields], index) => this.toDelivery(partition, id.toString(), fields, attempts[index] ?? 1));
  }

  /** Where the group stands on a stream: entries after it are unread. */
  private async lastDelivered(stream: string): Promise<string> {
    const groups = (await this.commands.xinfo('GROUPS', stream)) as unknown[][];
    const fields = groups.map(fieldsOf).find((each) => String(each.get('name')) === this.keys.group);
    return fields ? String(fields.get('last-delivered-id')) : '0-0';
  }

  /** Earlier holders stay in the group's consumer list after they are gone: drop those with nothing pending. */
  private async forgetIdleConsumers(stream: string): Promise<void> {
    const consumers = (await this.commands.xinfo('CONSUMERS', stream, this.keys.group)) as unknown[][];
    for (const fields of consumers.map(fieldsOf)) {
      const name = String(fields.get('name'));
      if (name !== this.instance && Number(fields.get('pending')) === 0) await this.commands.xgroup('DELCONSUMER', stream, this.keys.group, name);
    }
  }

  private toDelivery(partition: Partition, entryId: string, fields: Buffer[], attempt: number): Delivery {
    partition.open += 1;
    // The router appends the topic entry's id last: the publish time, and the message id of an entry sent without one.
    const origin = fields.length >= 2 && ORIGIN_BYTES.equals(fields[fields.length - 2] as Buffer) ? (fields[fields.length - 1] as Buffer).toString() : entryId;
    return new PartitionDelivery(this, partition, entryId, origin, fromFields(this.keys.topic, origin, fields), attempt);
  }

  // ── settling ─────────────────────────────────────────────────────────────────────────

  async ack(partition: Partition, entryId: string): Promise<void> {
    try {
      await this.acks.add({ stream: partition.stream, entryId });
    } finally {
      partition.open -= 1;
    }
  }

  /** Redeliver here after the delay while this instance still holds the partition; else its next holder claims it. */
  async nack(partition: Partition, entryId: string, delayMs: number): Promise<void> {
    partition.open -= 1;
    const redeliver = async (): Promise<void> => {
      if (partition.state === 'free') return;
      const entries = ((await this.commands.callBuffer('XCLAIM', partition.stream, this.keys.group, this.instance, 0, entryId)) as (RawEntry | null)[]).filter((e): e is RawEntry => e !== null);
      const [attempt] = await attemptsOf(this.commands, partition.stream, this.keys.group, entries);
      const [entry] = entries;
      if (entry) this.makeReady(this.toDelivery(partition, entry[0].toString(), entry[1], attempt ?? 1));
    };
    if (delayMs <= 0) await redeliver();
    else this.later(delayMs, redeliver);
  }

  async deadLetter(partition: Partition, entryId: string, queue: string, moved: EncodedMessage): Promise<void> {
    try {
      await deadLetterEntry(this.commands, partition.stream, this.keys.group, entryId, queue, moved);
    } finally {
      partition.open -= 1;
    }
  }

  // ── membership and leases ─────────────────────────────────────────────────────────────

  private async beat(): Promise<void> {
    if (this.closed) return;
    const { members: membersKey, leases, router } = this.keys;
    const now = Date.now();
    let members: string[];
    let holders: string[];
    try {
      [members, holders] = await this.scripts.bkBeat(1 + leases.length + 1, membersKey, ...leases, router, this.instance, LEASE_MS, '0');
      this.renewedAt = now;
    } catch {
      // Not renewed: past the lease time another instance may have the partitions, so stop reading them.
      if (now - this.renewedAt > LEASE_MS) this.loseAll();
      return;
    }
    if (this.closed) return;
    let changed = false;
    const acquire: Partition[] = [];
    for (const partition of this.partitions) {
      const holder = holders[partition.index] ?? '';
      const mine = ownerOf(partition.index, members) === this.instance;
      partition.mine = mine;
      if (partition.state !== 'free' && holder !== this.instance) {
        partition.state = 'free'; // lapsed: taken over while this instance was not renewing
        changed = true;
      } else if (partition.state === 'free' && holder === '' && mine) {
        acquire.push(partition);
      } else if (partition.state === 'free' && holder === this.instance) {
        // The server says this instance holds it, though it let it go (a failover brought back
        // an older lease): take it up again if it is its own, else give it up — renewing a lease
        // nobody reads would keep the partition unread for good.
        if (mine) {
          partition.state = 'recovering';
          partition.claimedUpTo = '-';
          changed = true;
        } else void this.scripts.bkRelease(partition.lease, this.instance).catch(() => undefined);
      } else if (partition.state === 'active' && !mine) {
        partition.state = 'releasing';
        changed = true;
        void this.releaseWhenSettled(partition);
      } else if (partition.state === 'releasing' && mine) {
        partition.state = 'active';
        changed = true;
      }
    }
    if (acquire.length > 0) {
      const pipeline = this.commands.pipeline();
      for (const partition of acquire) pipeline.set(partition.lease, this.instance, 'PX', LEASE_MS, 'NX');
      const results = (await pipeline.exec()) ?? [];
      acquire.forEach((partition, index) => {
        if (results[index]?.[1] !== 'OK' || this.closed) return;
        partition.state = 'recovering';
        partition.claimedUpTo = '-';
        changed = true;
      });
    }
    const routerHolder = holders[leases.length] ?? '';
    if (routerHolder === this.instance) this.router.run();
    else if (this.router.running) void this.router.stop();
    if (routerHolder === '') {
      const taken = await this.commands.set(router, this.instance, 'PX', LEASE_MS, 'NX');
      if (taken === 'OK' && !this.closed) this.router.run();
    }
    this.beats += 1;
    if (this.beats % TRIM_EVERY_BEATS === 0) for (const partition of this.partitions) if (partition.state === 'active') void this.scripts.bkTrim(partition.stream, this.keys.group).catch(() => undefined);
    if (changed) void this.unblock();
  }

  /** Hand a partition on: once nothing of it is being handled here, give up its lease. */
  private async releaseWhenSettled(partition: Partition): Promise<void> {
    while (partition.state === 'releasing' && partition.open > 0 && !this.closed) await sleep(10);
    if (partition.state !== 'releasing') return;
    this.acks.flush();
    partition.state = 'free';
    await this.scripts.bkRelease(partition.lease, this.instance).catch(() => undefined);
  }

  private loseAll(): void {
    for (const partition of this.partitions) partition.state = 'free';
    void this.router.stop();
    void this.unblock();
  }

  /** What `Delivery.native` shows. */
  nativeOf(partition: Partition, entryId: string): { stream: string; group: string; entryId: string; partition: number } {
    return { stream: partition.stream, group: this.keys.group, entryId, partition: partition.index };
  }
}

/**
 * The router: while this instance holds the router lease, it waits for new entries of the topic
 * (a blocking XREAD on a connection of its own) and runs the routing script on them.
 */
class Router {
  running = false;
  private loop: Promise<void> = Promise.resolve();
  private connection: RedisClient | undefined;
  private route: BlockingRoute | undefined;

  constructor(
    private readonly commands: RedisClient & PartitionCommands,
    private readonly template: RedisClient,
    private readonly keys: PartitionKeys,
    private readonly instance: string,
  ) {}

  run(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.routeWhileRunning();
  }

  async stop(): Promise<void> {
    if (!this.running) return this.loop;
    this.running = false;
    const route = this.route?.last;
    if (route) await route.unblockVia.client('UNBLOCK', route.id, 'TIMEOUT').catch(() => undefined);
    await this.loop;
    this.connection?.disconnect();
    this.connection = undefined;
    this.route = undefined;
    await this.commands.bkRelease(this.keys.router, this.instance).catch(() => undefined);
  }

  private async routeWhileRunning(): Promise<void> {
    const { topic, group, streams } = this.keys;
    while (this.running) {
      try {
        const [routed, last] = await this.commands.bkRoute(1 + streams.length, topic, ...streams, group, ROUTE_BATCH);
        if (Number(routed) >= ROUTE_BATCH || !this.running) continue;
        const connection = await this.connect();
        await this.route?.current();
        if (!this.running) break;
        await connection.xread('COUNT', 1, 'BLOCK', BLOCK_MS, 'STREAMS', topic, last);
      } catch {
        if (this.running) await sleep(200);
      }
    }
  }

  /** The router's own connection for its blocking read, made when it first needs one. */
  private async connect(): Promise<RedisClient> {
    if (this.connection) return this.connection;
    const connection = await blockingConnection(this.template, `brokerkit-router-${this.keys.group}`);
    this.connection = connection;
    this.route = new BlockingRoute(this.commands, connection, this.keys.topic);
    return connection;
  }
}

/** A delivered partition entry. */
class PartitionDelivery implements Delivery {
  constructor(
    private readonly subscription: PartitionedSubscription,
    private readonly partition: Partition,
    private readonly entryId: string,
    private readonly origin: string,
    readonly message: EncodedMessage,
    readonly attempt: number,
  ) {}

  get publishedAt(): Date {
    return publishedAtOf(this.origin);
  }

  get native(): { stream: string; group: string; entryId: string; partition: number } {
    return this.subscription.nativeOf(this.partition, this.entryId);
  }

  ack(): Promise<void> {
    return this.subscription.ack(this.partition, this.entryId);
  }

  nack(delayMs: number): Promise<void> {
    return this.subscription.nack(this.partition, this.entryId, delayMs);
  }

  deadLetter(queue: string, moved: EncodedMessage): Promise<void> {
    return this.subscription.deadLetter(this.partition, this.entryId, queue, moved);
  }
}
