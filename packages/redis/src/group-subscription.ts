import { TurnBatcher, type Delivery, type EncodedMessage } from '@brokerkit/core/driver';
import { TopologyError } from '@brokerkit/core';
import { fromFields, publishedAtOf, toFields, type RawEntry } from './fields.js';
import { ORIGIN_FIELD } from './partitions.js';
import calculateSlot from 'cluster-key-slot';
import { BlockingReader, isCluster, type RedisClient } from './reader.js';

const BLOCK_MS = 2_000;
/** Ids in one XACK: a bound on one command's size, far above any consumer's concurrency. */
const MAX_IDS_PER_XACK = 1_000;

/** Extend an entry's lease only while this consumer still owns it: never steal it back. */
const EXTEND_IF_OWNER = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if #pending == 1 and pending[1][2] == ARGV[2] then
  redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
  return 1
end
return 0`;

export interface GroupSettings {
  stream: string;
  group: string;
  consumer: string;
  ackTimeoutMs: number;
}

/**
 * A durable subscription: a consumer in the stream's consumer group.
 * - new entries: XREADGROUP (blocking, bounded);
 * - entries of crashed consumers: XAUTOCLAIM once idle longer than ackTimeoutMs;
 * - attempt: the pending entry's delivery counter (XPENDING), which survives crashes;
 * - delayed retry: the entry stays pending, owned by this consumer, its idle time kept low
 *   until due; then XCLAIM counts the new delivery. If this process dies meanwhile, others
 *   reclaim it after ackTimeoutMs — possibly before the backoff ran out, never lost.
 */
export class GroupSubscription extends BlockingReader {
  private readonly parked = new Set<string>();
  private autoclaimCursor = '0-0';
  private lastAutoclaimAt = 0;
  /** A scan of the pending list is under way (it found entries, or has not wrapped around). */
  private scanning = false;
  private keeper: NodeJS.Timeout | undefined;
  private readonly acks = new TurnBatcher<string>(MAX_IDS_PER_XACK, async (entryIds) => {
    await this.commands.xack(this.settings.stream, this.settings.group, ...entryIds);
  });

  constructor(
    commands: RedisClient,
    blocking: RedisClient,
    private readonly settings: GroupSettings,
  ) {
    super(commands, blocking, settings.stream);
  }

  override async start(): Promise<void> {
    await super.start();
    // Parked retries must not look abandoned to other consumers.
    this.keeper = setInterval(() => void this.keepParked().catch(() => undefined), Math.max(100, Math.floor(this.settings.ackTimeoutMs / 3)));
  }

  /**
   * Entries abandoned by crashed consumers. A scan of the pending list goes on at every receive
   * until it wraps around (each XAUTOCLAIM looks at up to ten times `max` entries), so a crashed
   * consumer's backlog comes back at the rate this consumer handles messages; a scan that wrapped
   * around starts again at most every second.
   */
  protected override async collect(max: number): Promise<Delivery[]> {
    if (!this.scanning && Date.now() - this.lastAutoclaimAt < Math.min(1_000, this.settings.ackTimeoutMs / 2)) return [];
    return this.claimAbandoned(max);
  }

  override async close(): Promise<void> {
    clearInterval(this.keeper);
    // Hand parked retries to the group at once rather than after ackTimeoutMs.
    const parked = [...this.parked];
    this.parked.clear();
    await super.close();
    await Promise.all(parked.map((id) => this.release(id).catch(() => undefined)));
  }

  protected async readBlocking(max: number): Promise<Delivery[]> {
    const { stream, group, consumer } = this.settings;
    const reply = (await this.blocking.xreadgroupBuffer('GROUP', group, consumer, 'COUNT', max, 'BLOCK', BLOCK_MS, 'STREAMS', stream, '>')) as
      | [Buffer, RawEntry[]][]
      | null;
    const entries = reply?.[0]?.[1] ?? [];
    return entries.map(([id, fields]) => this.toDelivery(id.toString(), fields, 1));
  }

  private async claimAbandoned(max: number): Promise<Delivery[]> {
    const { stream, group, consumer, ackTimeoutMs } = this.settings;
    this.lastAutoclaimAt = Date.now();
    const [cursor, entries] = (await this.commands.callBuffer('XAUTOCLAIM', stream, group, consumer, ackTimeoutMs, this.autoclaimCursor, 'COUNT', max)) as [Buffer, (RawEntry | null)[]];
    this.autoclaimCursor = cursor.toString();
    const claimed = entries.filter((e): e is RawEntry => e !== null);
    this.scanning = claimed.length > 0 || this.autoclaimCursor !== '0-0';
    return this.withAttempts(claimed);
  }

  /** Deliveries for entries just claimed, with each one's delivery counter. */
  private async withAttempts(entries: RawEntry[]): Promise<Delivery[]> {
    const attempts = await attemptsOf(this.commands, this.settings.stream, this.settings.group, entries);
    return entries.map(([id, fields], index) => this.toDelivery(id.toString(), fields, attempts[index] ?? 1));
  }

  private toDelivery(entryId: string, fields: Buffer[], attempt: number): Delivery {
    return new GroupDelivery(this, entryId, fromFields(this.settings.stream, entryId, fields), attempt);
  }

  /** Settle an entry as done; acks of one event-loop turn share one XACK. */
  ack(entryId: string): Promise<void> {
    return this.acks.add(entryId);
  }

  async nack(entryId: string, delayMs: number): Promise<void> {
    if (delayMs <= 0) {
      await this.release(entryId);
      return;
    }
    this.parked.add(entryId);
    this.later(delayMs, () => this.redeliverParked(entryId));
  }

  async extendLease(entryId: string): Promise<void> {
    const { stream, group, consumer } = this.settings;
    await this.commands.eval(EXTEND_IF_OWNER, 1, stream, group, consumer, entryId);
  }

  deadLetter(entryId: string, queue: string, moved: EncodedMessage): Promise<void> {
    return deadLetterEntry(this.commands, this.settings.stream, this.settings.group, entryId, queue, moved);
  }

  /** What `Delivery.native` shows for an entry. */
  nativeOf(entryId: string): { stream: string; group: string; entryId: string } {
    return { stream: this.settings.stream, group: this.settings.group, entryId };
  }

  /** Due: claim it again (counting the delivery) and hand it to the receive loop. */
  private async redeliverParked(entryId: string): Promise<void> {
    if (!this.parked.delete(entryId)) return;
    const { stream, group, consumer } = this.settings;
    const entries = (await this.commands.callBuffer('XCLAIM', stream, group, consumer, 0, entryId)) as (RawEntry | null)[];
    const [delivery] = await this.withAttempts(entries.filter((e): e is RawEntry => e !== null));
    if (delivery) this.makeReady(delivery);
  }

  /** Make the entry look abandoned now, so any consumer's next XAUTOCLAIM takes it. */
  private async release(entryId: string): Promise<void> {
    const { stream, group, consumer, ackTimeoutMs } = this.settings;
    await this.commands.call('XCLAIM', stream, group, consumer, 0, entryId, 'IDLE', ackTimeoutMs + 1, 'JUSTID');
  }

  private async keepParked(): Promise<void> {
    if (this.parked.size === 0) return;
    const { stream, group, consumer } = this.settings;
    await this.commands.call('XCLAIM', stream, group, consumer, 0, ...this.parked, 'JUSTID');
  }
}

/** A delivered stream entry. A class rather than closures per entry: this is made for every message. */
class GroupDelivery implements Delivery {
  constructor(
    private readonly subscription: GroupSubscription,
    private readonly entryId: string,
    readonly message: EncodedMessage,
    readonly attempt: number,
  ) {}

  get publishedAt(): Date {
    return publishedAtOf(this.entryId);
  }

  get native(): { stream: string; group: string; entryId: string } {
    return this.subscription.nativeOf(this.entryId);
  }

  ack(): Promise<void> {
    return this.subscription.ack(this.entryId);
  }

  nack(delayMs: number): Promise<void> {
    return this.subscription.nack(this.entryId, delayMs);
  }

  extendLease(): Promise<void> {
    return this.subscription.extendLease(this.entryId);
  }

  deadLetter(queue: string, moved: EncodedMessage): Promise<void> {
    return this.subscription.deadLetter(this.entryId, queue, moved);
  }
}

/** Each claimed entry's delivery counter (1 where the pending list no longer has it). */
export async function attemptsOf(commands: RedisClient, stream: string, group: string, entries: RawEntry[]): Promise<number[]> {
  if (entries.length === 0) return [];
  const pipeline = commands.pipeline();
  for (const [id] of entries) pipeline.xpending(stream, group, id.toString(), id.toString(), 1);
  const results = (await pipeline.exec()) ?? [];
  return entries.map((_, index) => {
    const pending = results[index]?.[1] as [string, string, number, number][] | undefined;
    return Number(pending?.[0]?.[3] ?? 1);
  });
}

/** Move an entry to the dead-letter queue: the DLQ entry and the ack together, where the slots allow. */
export async function deadLetterEntry(commands: RedisClient, stream: string, group: string, entryId: string, queue: string, moved: EncodedMessage): Promise<void> {
  if (isCluster(commands) && calculateSlot(queue) !== calculateSlot(stream)) {
    // A cluster runs a transaction only within one hash slot. Across slots: the DLQ entry
    // first, then the ack, so nothing is lost; a crash between the two leaves the entry
    // pending, and its redelivery dead-letters it again (a duplicate in the DLQ). Queues named
    // with the same hash tag ({orders} and {orders}.dlq) share a slot and move atomically.
    await commands.xadd(queue, '*', ...toFields(moved));
    await commands.xack(stream, group, entryId);
    return;
  }
  // One transaction: the DLQ entry and the ack exist together or not at all.
  const results = await commands.multi().xadd(queue, '*', ...toFields(moved)).xack(stream, group, entryId).exec();
  const failed = results?.find(([error]) => error);
  if (!results || failed) throw failed?.[0] ?? new Error('dead-letter transaction was discarded');
}

/** Most entries counted one by one where Redis cannot tell a group's lag (after deletions). */
const MAX_COUNTED = 100_000;

/**
 * A group's backlog on one stream: its lag (entries not yet read) plus its pending entries, and
 * when the oldest of them was published (a routed partition entry keeps its topic entry's id).
 */
export async function groupBacklog(commands: RedisClient, stream: string, group: string): Promise<{ messages: number; approximate: boolean; oldestPublishedAt?: number }> {
  let groups: unknown[][];
  try {
    groups = (await commands.xinfo('GROUPS', stream)) as unknown[][];
  } catch (error) {
    if (/no such key/i.test(String(error))) throw new TopologyError(`no subscription ${group} of ${stream}: the stream does not exist`);
    throw error;
  }
  const info = groups.map(fieldsOf).find((fields) => String(fields.get('name')) === group);
  if (!info) throw new TopologyError(`no subscription ${group} of ${stream} (declare it with ensureSubscription or ensureQueue)`);
  const pending = Number(info.get('pending') ?? 0);
  const lastDelivered = String(info.get('last-delivered-id') ?? '0-0');
  let lag = info.get('lag') === null || info.get('lag') === undefined ? undefined : Number(info.get('lag'));
  let approximate = false;
  if (lag === undefined) {
    // Redis cannot tell after entries were deleted: count what follows the group's position.
    const unread = (await commands.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', MAX_COUNTED)) as unknown[];
    lag = unread.length;
    approximate = unread.length === MAX_COUNTED;
  }
  let oldestId: string | undefined;
  if (pending > 0) oldestId = String(((await commands.xpending(stream, group)) as [number, string])[1]);
  else if (lag > 0) oldestId = ((await commands.xrange(stream, `(${lastDelivered}`, '+', 'COUNT', 1)) as [string, string[]][])[0]?.[0];
  let oldestPublishedAt: number | undefined;
  if (oldestId !== undefined) {
    const [entry] = (await commands.xrange(stream, oldestId, oldestId)) as [string, string[]][];
    const fields = entry?.[1] ?? [];
    const origin = fields.indexOf(ORIGIN_FIELD) % 2 === 0 ? fields[fields.indexOf(ORIGIN_FIELD) + 1] : undefined;
    oldestPublishedAt = publishedAtOf(origin ?? oldestId).getTime();
  }
  return { messages: lag + pending, approximate, ...(oldestPublishedAt === undefined ? {} : { oldestPublishedAt }) };
}

/** A flat [name, value, …] reply (XINFO) as a map. */
export function fieldsOf(flat: unknown[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(String(flat[i]), flat[i + 1]);
  return fields;
}
