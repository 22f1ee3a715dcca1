import { randomBytes } from 'node:crypto';
import { ownerOf, PushBuffer, sleep, withDeadline, type Delivery, type DriverSubscription, type SubscriptionSpec } from '@brokerkit/core/driver';
import { describeError } from '@brokerkit/core';
import type { Channel, ConsumeMessage } from 'amqplib';
import { ChannelAcks } from './acks.js';
import type { RabbitConnection } from './connection.js';
import { fromAmqp } from './message.js';
import { inspectQueue, memberQueue, membersExchange, partitionQueue } from './partitions.js';
import type { Publisher } from './publisher.js';
import { RabbitDelivery, RetryPublisher, type Settler } from './subscription.js';

/** How often an instance says it is there; one silent for three beats is taken as gone. */
const HEARTBEAT_MS = 1_000;
const SILENT_AFTER_MS = 3 * HEARTBEAT_MS;
/** After deciding to keep a partition it does not own (its owner is not consuming yet), when to ask again. */
const KEEP_MS = 2_000;
/** How often the queue of a subscription declared before its ordering was known is looked at. */
const PLAIN_QUEUE_POLL_MS = 200;
const PLAIN_QUEUE_SWEEP_MS = 10_000;
/** A partition whose channel got nothing for this long has nothing more on the way to it. */
const QUIET_MS = 100;
/** How long a hand-over waits to hear its own notice of the messages it gives back. */
const NOTICE_WAIT_MS = 1_000;
/** Messages given back unhandled that an instance remembers (the oldest are forgotten first). */
const RETURNS_REMEMBERED = 50_000;

/** One queue this instance consumes: a partition, or the retired plain queue while it drains. */
interface Slot {
  queue: string;
  /** The partition's number; -1 for the plain queue. */
  index: number;
  channel: Channel | undefined;
  acks: ChannelAcks | undefined;
  /** Handed to the portable layer and not settled yet. */
  open: number;
  /** Delivered while handing the partition over: given back with the channel. */
  held: ConsumeMessage[];
  lastDeliveryAt: number;
  handingOver: boolean;
  keepUntil: number;
}

interface Beat {
  id: string;
  /** Consuming every partition (so a partition handed to it has a consumer to go to). */
  ready: boolean;
  leaving?: boolean;
  /** The live members as the sender sees them, sorted: a partition goes only to an owner that agrees. */
  view?: string[];
  /**
   * A notice instead of a beat: these messages (AMQP message ids) were delivered to the sender
   * and go back to the queue unhandled, with a hand-over. `nonce` lets the sender hear its own.
   */
  returned?: string[];
  nonce?: string;
}

class PartitionDelivery extends RabbitDelivery {
  constructor(
    settler: Settler,
    channel: Channel,
    acks: ChannelAcks,
    raw: ConsumeMessage,
    readonly slot: Slot,
  ) {
    super(settler, channel, acks, raw, fromAmqp(raw));
  }
}

/**
 * A key-ordered subscription's instance (see partitions.ts for the topology). It consumes every
 * partition queue; single-active-consumer makes the broker deliver each partition to one
 * instance at a time, and to a waiting one at once when the active one's connection dies.
 *
 * Work is spread by handing over: instances announce themselves on a fanout exchange every
 * second, and each computes the same owner per partition (`ownerOf`). An instance delivered a
 * partition it does not own — the owner is alive (its exclusive member queue exists) and
 * consuming — holds what arrives, lets the portable layer finish what it already has of that
 * partition, then closes the partition's channel: the broker returns the held messages ahead of
 * newer ones and activates the next consumer, and this instance consumes again, at the back.
 * Key order holds across a handover because nothing of the partition is being handled here when
 * the next instance gets it.
 *
 * The quorum queue counts every return as a delivery (x-delivery-count, RabbitMQ before 4.3), and
 * the attempt is read from it. So a hand-over first waits until nothing more is on its way to the
 * channel, then names the messages it gives back in a notice on the fanout, and every instance
 * takes those returns off the attempt: repeated hand-overs must not make the crash-loop guard
 * dead-letter messages no handler saw. An instance hands over only to an owner whose last beat
 * shows the members it sees, so two instances that disagree do not pass a partition back and forth.
 */
export class PartitionedSubscription implements DriverSubscription, Settler {
  readonly instance = randomBytes(6).toString('hex');
  private readonly buffer = new PushBuffer<PartitionDelivery>();
  private readonly slots: Slot[];
  private readonly members = new Map<string, { seenAt: number; ready: boolean; view: string }>();
  /**
   * Deliveries of a message that no handler saw: the hand-overs that gave it back, as every
   * instance heard them. The quorum queue counts each in x-delivery-count (RabbitMQ before 4.3
   * counts every return), which is where the attempt comes from; these are taken off again.
   */
  private readonly returns = new Map<string, number>();
  private readonly noticeHeard = new Map<string, () => void>();
  private readonly retries: RetryPublisher;
  private readonly stopListening: () => void;
  private memberChannel: Channel | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private sweeper: NodeJS.Timeout | undefined;
  private ready = false;
  private closed = false;
  /** The attach in progress (the first, and after each reconnect); close waits for it. */
  private attaching: Promise<void> = Promise.resolve();
  /** Counts attaches: a failure of one a reconnect superseded is not reported. */
  private generation = 0;

  constructor(
    private readonly connection: RabbitConnection,
    publisher: Publisher,
    private readonly spec: SubscriptionSpec,
    partitions: number,
  ) {
    this.retries = new RetryPublisher(connection, publisher);
    this.slots = Array.from({ length: partitions }, (_, index) => newSlot(partitionQueue(spec.subscription, index), index));
    this.stopListening = connection.onReconnect(async () => {
      await this.attach();
    });
  }

  /** Join the members, then — once the plain queue, if any, is drained — consume every partition. */
  async attach(): Promise<void> {
    if (this.closed) return;
    const generation = ++this.generation;
    this.ready = false;
    this.buffer.clear();
    for (const slot of this.slots) resetSlot(slot);
    await this.join();
    // Not awaited: the portable layer must be receiving to handle what the plain queue holds.
    this.attaching = this.consumeAfterPlainQueue().catch((error: unknown) => {
      if (!this.closed && generation === this.generation) this.buffer.fail(new Error(`attaching to the partitions of ${this.spec.subscription} failed: ${describeError(error)}`));
    });
  }

  receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    return this.buffer.take(max, signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopListening();
    clearInterval(this.heartbeat);
    clearInterval(this.sweeper);
    this.beat(true);
    this.buffer.close();
    await this.attaching;
    for (const slot of this.slots) slot.acks?.flush();
    await Promise.all(this.slots.flatMap((slot) => (slot.channel ? [slot.channel.close().catch(() => undefined)] : [])));
    await this.memberChannel?.close().catch(() => undefined);
    for (const slot of this.slots) resetSlot(slot);
    this.memberChannel = undefined;
  }

  async nack(delivery: RabbitDelivery, delayMs: number): Promise<void> {
    const { slot } = delivery as PartitionDelivery;
    if (slot.channel !== delivery.channel || !slot.acks) return; // a closed channel's deliveries are back in the queue
    if (delayMs <= 0) {
      // Returned ahead of newer messages, and redelivered to this instance while it is the active consumer.
      delivery.channel.nack(delivery.raw, false, true);
      slot.acks.released(delivery.raw.fields.deliveryTag);
    } else {
      await this.retries.retryLater(slot.queue, delivery.decoded, delayMs);
      await slot.acks.ack(delivery.raw.fields.deliveryTag);
    }
  }

  settled(delivery: RabbitDelivery): void {
    const { slot } = delivery as PartitionDelivery;
    if (slot.channel === delivery.channel) slot.open -= 1;
  }

  // ── membership ────────────────────────────────────────────────────────────────────────

  private async join(): Promise<void> {
    const channel = await this.connection.model.createChannel();
    channel.on('error', () => undefined);
    const exchange = membersExchange(this.spec.subscription);
    const queue = memberQueue(this.spec.subscription, this.instance);
    await channel.assertExchange(exchange, 'fanout', { durable: false, autoDelete: true });
    // Exclusive: the broker deletes it the moment this connection goes, which is how others learn it died.
    await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, exchange, '');
    await channel.consume(queue, (message) => message && this.heard(message.content), { noAck: true });
    this.memberChannel = channel;
    this.members.set(this.instance, { seenAt: Date.now(), ready: false, view: '' });
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => this.beat(false), HEARTBEAT_MS);
    this.heartbeat.unref();
    this.beat(false);
  }

  private beat(leaving: boolean): void {
    this.announce({ id: this.instance, ready: this.ready, view: this.liveMembers().sort(), ...(leaving ? { leaving } : {}) });
  }

  private announce(beat: Beat): boolean {
    try {
      return this.memberChannel?.publish(membersExchange(this.spec.subscription), '', Buffer.from(JSON.stringify(beat))) !== undefined;
    } catch {
      // The channel is closing (a reconnect re-joins); a missed beat is what silence means.
      return false;
    }
  }

  /**
   * Tell every instance (this one too) that these messages go back unhandled, and wait until this
   * instance hears it: the fanout has then put the notice in every member queue, before the
   * messages are even back in the partition.
   */
  private async noticeReturned(messages: readonly ConsumeMessage[]): Promise<void> {
    const returned = messages.flatMap((message) => (typeof message.properties.messageId === 'string' && message.properties.messageId !== '' ? [message.properties.messageId] : []));
    if (returned.length === 0) return;
    const nonce = randomBytes(6).toString('hex');
    const heard = new Promise<void>((resolve) => this.noticeHeard.set(nonce, resolve));
    if (this.announce({ id: this.instance, ready: this.ready, returned, nonce })) await withDeadline(heard, NOTICE_WAIT_MS, () => new Error('notice not heard')).catch(() => undefined);
    this.noticeHeard.delete(nonce);
  }

  /** The delivery's attempt without the returns no handler saw. */
  private attemptOf(delivery: PartitionDelivery): number {
    const id = delivery.raw.properties.messageId as unknown;
    const unhandled = typeof id === 'string' ? (this.returns.get(id) ?? 0) : 0;
    return Math.max(1, delivery.attempt - unhandled);
  }

  private heard(content: Buffer): void {
    let beat: Beat;
    try {
      beat = JSON.parse(content.toString()) as Beat;
    } catch {
      return; // not ours
    }
    if (typeof beat.id !== 'string') return;
    if (Array.isArray(beat.returned)) {
      for (const id of beat.returned) if (typeof id === 'string') this.returns.set(id, (this.returns.get(id) ?? 0) + 1);
      for (const id of this.returns.keys()) {
        if (this.returns.size <= RETURNS_REMEMBERED) break;
        this.returns.delete(id);
      }
      if (beat.id === this.instance && typeof beat.nonce === 'string') this.noticeHeard.get(beat.nonce)?.();
      return;
    }
    if (beat.leaving) this.members.delete(beat.id);
    else this.members.set(beat.id, { seenAt: Date.now(), ready: beat.ready === true, view: Array.isArray(beat.view) ? beat.view.join(',') : '' });
  }

  private liveMembers(): string[] {
    const now = Date.now();
    const live = [this.instance];
    for (const [id, member] of this.members) if (id !== this.instance && now - member.seenAt <= SILENT_AFTER_MS) live.push(id);
    return live;
  }

  // ── partitions ────────────────────────────────────────────────────────────────────────

  private async consumeAfterPlainQueue(): Promise<void> {
    await this.drainPlainQueueFirst();
    if (this.closed) return;
    for (const slot of this.slots) await this.consume(slot);
    this.ready = true;
    this.beat(false);
    clearInterval(this.sweeper);
    this.sweeper = setInterval(() => void this.sweepPlainQueue(), PLAIN_QUEUE_SWEEP_MS);
    this.sweeper.unref();
  }

  private async consume(slot: Slot, options: { exclusive?: boolean } = {}): Promise<void> {
    const channel = await this.connection.model.createChannel();
    channel.on('error', () => undefined);
    await channel.prefetch(this.spec.maxInFlight);
    const acks = new ChannelAcks(channel, () => slot.channel === channel);
    slot.channel = channel;
    slot.acks = acks;
    slot.open = 0;
    slot.held = [];
    try {
      await channel.consume(slot.queue, (message) => message && this.delivered(slot, channel, acks, message), options);
    } catch (error) {
      resetSlot(slot);
      throw error;
    }
  }

  private delivered(slot: Slot, channel: Channel, acks: ChannelAcks, message: ConsumeMessage): void {
    if (slot.channel !== channel) return;
    acks.delivered(message.fields.deliveryTag);
    slot.lastDeliveryAt = Date.now();
    if (slot.handingOver || this.shouldHandOver(slot)) {
      slot.held.push(message);
      void this.handOver(slot, channel);
      return;
    }
    slot.open += 1;
    this.buffer.push(this.deliveryOf(slot, channel, acks, message));
  }

  private deliveryOf(slot: Slot, channel: Channel, acks: ChannelAcks, message: ConsumeMessage): PartitionDelivery {
    const delivery = new PartitionDelivery(this, channel, acks, message, slot);
    delivery.attempt = this.attemptOf(delivery);
    return delivery;
  }

  /** Hand over to an owner that consumes every partition and sees the members as this instance does (else it could hand the partition straight back). */
  private shouldHandOver(slot: Slot): boolean {
    if (slot.index < 0 || !this.ready || Date.now() < slot.keepUntil) return false;
    const live = this.liveMembers();
    const owner = ownerOf(slot.index, live);
    if (owner === undefined || owner === this.instance) return false;
    const member = this.members.get(owner);
    return member?.ready === true && member.view === live.sort().join(',');
  }

  /**
   * Give the partition to its owner, if the owner is alive and consuming it: finish what the
   * portable layer has of it, then close the channel (the held messages go back ahead of newer
   * ones, the next consumer becomes active) and consume again at the back. Otherwise keep it.
   */
  private async handOver(slot: Slot, channel: Channel): Promise<void> {
    if (slot.handingOver) return;
    slot.handingOver = true;
    try {
      // The owner said it consumes every partition; its exclusive queue says it still lives (the
      // broker deletes it with the owner's connection: a crash is known here at once, not after
      // three silent beats). A queue's consumer count cannot tell: it counts only the active one.
      const owner = ownerOf(slot.index, this.liveMembers()) as string;
      const ownerAlive = (await inspectQueue(this.connection.model, memberQueue(this.spec.subscription, owner))) !== undefined;
      if (!ownerAlive) {
        this.members.delete(owner);
        slot.keepUntil = Date.now() + KEEP_MS;
        this.release(slot, channel);
        return;
      }
      while (slot.open > 0 && slot.channel === channel && !this.closed) await sleep(10);
      // Every message that goes back must be one a notice names (the broker counts the return as
      // a delivery), so wait until nothing more can be on its way to the channel: prefetch is full
      // of held messages, or the channel has been quiet. (Not a basic.cancel: the owner would
      // become active while the held messages are still out, and run newer ones first.)
      slot.acks?.flush();
      while (slot.channel === channel && !this.closed && slot.held.length < this.spec.maxInFlight && Date.now() - slot.lastDeliveryAt < QUIET_MS) await sleep(10);
      for (let named = 0; slot.channel === channel && !this.closed && named < slot.held.length; ) {
        const more = slot.held.slice(named);
        named = slot.held.length;
        await this.noticeReturned(more);
      }
      if (slot.channel !== channel || this.closed) return;
      slot.acks?.flush();
      resetSlot(slot);
      await channel.close().catch(() => undefined);
      if (!this.closed) await this.consume(slot);
    } catch {
      // Could not ask the broker (a connection going down): keep the partition for now; a
      // reconnect attaches afresh.
      slot.keepUntil = Date.now() + KEEP_MS;
      this.release(slot, channel);
    } finally {
      slot.handingOver = false;
    }
  }

  /** Keep the partition after all: what was held goes to the portable layer, in order. */
  private release(slot: Slot, channel: Channel): void {
    if (slot.channel !== channel || !slot.acks) return;
    const held = slot.held;
    slot.held = [];
    for (const message of held) {
      slot.open += 1;
      this.buffer.push(this.deliveryOf(slot, channel, slot.acks, message));
    }
  }

  // ── the plain queue of a subscription declared before its ordering was known ───────────

  /**
   * What the plain queue holds is older than anything in the partitions: one instance at a
   * time (an exclusive consumer) hands it to the portable layer, and no instance consumes a
   * partition until it is empty and its last delivery settled.
   */
  private async drainPlainQueueFirst(): Promise<void> {
    while (!this.closed) {
      const plain = await inspectQueue(this.connection.model, this.spec.subscription);
      if (!plain || (plain.messageCount === 0 && plain.consumerCount === 0)) return;
      if (plain.consumerCount === 0 && (await this.drainPlainQueue())) return;
      await sleep(PLAIN_QUEUE_POLL_MS);
    }
  }

  /** Late arrivals in the plain queue (retries its earlier consumers scheduled) are handled too. */
  private async sweepPlainQueue(): Promise<void> {
    if (this.closed || !this.connection.isUp) return;
    try {
      const plain = await inspectQueue(this.connection.model, this.spec.subscription);
      if (plain && plain.messageCount > 0 && plain.consumerCount === 0) await this.drainPlainQueue();
    } catch {
      // Tried again at the next sweep.
    }
  }

  /** Consume the plain queue exclusively until it is empty and settled; false when another instance has it. */
  private async drainPlainQueue(): Promise<boolean> {
    const slot = newSlot(this.spec.subscription, -1);
    try {
      await this.consume(slot, { exclusive: true });
    } catch (error) {
      if (/ACCESS_REFUSED|403|exclusive/i.test(describeError(error))) return false;
      throw error;
    }
    const channel = slot.channel as Channel;
    while (!this.closed && slot.channel === channel) {
      const plain = await inspectQueue(this.connection.model, this.spec.subscription);
      if ((!plain || plain.messageCount === 0) && slot.open === 0) break;
      await sleep(PLAIN_QUEUE_POLL_MS);
    }
    slot.acks?.flush();
    resetSlot(slot);
    await channel.close().catch(() => undefined);
    return true;
  }
}

function newSlot(queue: string, index: number): Slot {
  return { queue, index, channel: undefined, acks: undefined, open: 0, held: [], lastDeliveryAt: 0, handingOver: false, keepUntil: 0 };
}

function resetSlot(slot: Slot): void {
  slot.channel = undefined;
  slot.acks = undefined;
  slot.open = 0;
  slot.held = [];
}
