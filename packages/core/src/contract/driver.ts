/**
 * The driver interface: what an adapter implements to plug a broker into brokerkit.
 *
 * A driver maps mechanisms only. Retry decisions, backoff, per-key serial execution,
 * concurrency limits, codecs, dead-letter metadata and shutdown live in the portable layer
 * (`../portable`), once, for every backend.
 */
import type { Backlog, Capabilities } from './capabilities.js';
import type { Headers, SendReceipt } from './message.js';

/** A message as bytes on the wire: what drivers store and deliver. */
export interface EncodedMessage {
  /**
   * On receive, always set. On send, '' when the driver has `traits.idsFromBroker` and the
   * caller gave no id: the broker's position names the message, and the receipt tells it.
   */
  id: string;
  key: string | undefined;
  /** User headers plus brokerkit's `bk-*` headers (content type, dead-letter metadata). */
  headers: Headers;
  /** On receive, drivers may pass their client's Buffer as is; handlers get a plain `Uint8Array` from the codec. */
  body: Uint8Array;
  /**
   * The same body as UTF-8 text, when the codec produced text (JSON). Clients that write
   * strings faster than buffers (ioredis: ~1.4× for XADD) may send this instead of `body`.
   */
  text?: string;
  /**
   * On send: deliver not before this time (epoch ms), where the producer asked for a delay
   * (`delayMs` / `deliverAt`) and the backend can delay (`capabilities.delayedSend`).
   */
  deliverAt?: number;
}

/** Everything a driver needs to declare and attach to a subscription. */
export interface SubscriptionSpec {
  topic: string;
  subscription: string;
  /** false: ephemeral, receives only while attached, deleted on close. */
  durable: boolean;
  ordering: 'none' | 'key';
  ackTimeoutMs: number;
  /** Most messages one instance holds unsettled (its concurrency): prefetch or flow control for push brokers. */
  maxInFlight: number;
  maxAttempts: number;
  /** Queue that exhausted or poisoned messages go to; undefined when dead-lettering is off. */
  deadLetterQueue: string | undefined;
  /**
   * True for core's delay mover reading a `<topic>.delayed` queue (`withPortableDelays`). Its
   * nacks only say when to look at a message again, never sooner than that matters: a driver may
   * hand it back earlier than asked, by its own route (Kafka: fixed-delay stage topics).
   */
  delayMover?: boolean;
}

/**
 * A declaration made before any consumer attaches (`broker.ensureQueue`, `ensureSubscription`
 * without an ordering): the ordering is then `'undecided'`, and the driver declares what lets a
 * consumer of either ordering attach later and receive what was sent meanwhile.
 */
export interface SubscriptionDeclaration extends Omit<SubscriptionSpec, 'ordering'> {
  ordering: SubscriptionSpec['ordering'] | 'undecided';
}

/** One delivered message, leased to this instance until settled. */
export interface Delivery {
  readonly message: EncodedMessage;
  readonly publishedAt: Date;
  /** The broker's delivery count: 1 on first delivery. */
  readonly attempt: number;
  readonly native: unknown;
  /** Settle as done. Must not resolve before the broker recorded it (or the connection failed). */
  ack(): Promise<void>;
  /** Give the message back for redelivery no earlier than `delayMs` from now (0: at once). */
  nack(delayMs: number): Promise<void>;
  /** Keep the lease for `ms` more from now. Absent where the broker extends leases itself. */
  extendLease?(ms: number): Promise<void>;
  /**
   * Move the message to `queue` with `message` (original plus metadata headers) atomically.
   * Absent: the portable layer sends to the queue, then acks (at-least-once into the DLQ).
   */
  deadLetter?(queue: string, message: EncodedMessage): Promise<void>;
}

/** An attached subscription, pulled by the portable layer's receive loop. */
export interface DriverSubscription {
  /**
   * Up to `max` deliveries. May return an empty array after a bounded wait (the loop calls
   * again); must return promptly once `signal` aborts.
   */
  receive(max: number, signal: AbortSignal): Promise<Delivery[]>;
  /** Stop receiving. Unsettled deliveries stay leased until settled or their lease expires. */
  close(): Promise<void>;
}

export interface DriverLimits {
  maxMessageBytes: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
}

/** Facts about the broker the portable layer adapts to. */
export interface DriverTraits {
  /**
   * True when the broker itself keeps same-key order while a message waits for a delayed
   * retry (it holds the key) and delivers none of the key's later messages meanwhile. It
   * says nothing of later messages already delivered with it: those the portable layer
   * holds, retrying in place while any wait. False: with `ordering: 'key'`, the portable
   * layer always retries in place, holding the key, so order is never broken.
   */
  retryKeepsKeyOrder: boolean;
  /**
   * True when the broker names each message it accepts by a position that stays with it
   * through every redelivery (Kafka: topic/partition/offset; Redis: the stream entry id).
   * A message sent without an id then travels without one (`EncodedMessage.id` is ''),
   * and the driver's receipt names it. False: core generates a UUIDv7 (`uuidV7`: it holds
   * the millisecond it was made), which the driver carries.
   */
  idsFromBroker: boolean;
  /**
   * True where a queue delivers nothing more of a key while one of its messages is unsettled
   * (Pub/Sub: queues are ordered subscriptions). A dead-letter scan then moves what it leaves to
   * the back of the queue (sent again, then acknowledged) instead of holding it, to see past it.
   */
  unsettledBlocksKey?: boolean;
  /**
   * Set where the broker cannot hold a message until a time: core then keeps delayed sends in
   * a queue of their own per topic, moved in by the topic's subscribers (`withPortableDelays`).
   */
  portableDelays?: PortableDelays;
}

/** How core delays sends for a driver (`traits.portableDelays`). */
export interface PortableDelays {
  /** The longest one nack may put a message off (SQS: a visibility timeout, at most 12 h). */
  hopMs: number;
  /**
   * Where a nack with a delay holds the message in the process (Pub/Sub), how many a mover may
   * hold at once (default 100); past it, messages wait in the queue until a hold ends.
   */
  maxWaiting?: number;
  /**
   * Where a delay queue and its mover cost much (Kafka: topics and a consumer group), whether
   * `name` exists: a subscriber then starts its topic's mover only once the topic's delay queue
   * does (looked for every 10 s, and at once after this process delays a send to the topic).
   * Absent: every subscriber declares the delay queue and runs the mover from the start.
   */
  queueExists?(name: string): Promise<boolean>;
}

export interface Driver {
  /** Backend name as used in URLs and reports: `memory`, `kafka`, … */
  readonly backend: string;
  readonly capabilities: Capabilities;
  readonly limits: DriverLimits;
  readonly traits: DriverTraits;
  /** Declare a queue that holds messages until consumed (a topic with a subscription of the same name). Idempotent. */
  ensureQueue(name: string): Promise<void>;
  /** Declare topic, subscription and dead-letter queue. Idempotent; a clash with what exists is a TopologyError. */
  ensureSubscription(spec: SubscriptionDeclaration): Promise<void>;
  /** Resolve once the broker durably accepted every message, in order. */
  send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]>;
  subscribe(spec: SubscriptionSpec): Promise<DriverSubscription>;
  /** A real round-trip to the broker; returns its version where it tells one. */
  ping(): Promise<{ version?: string }>;
  /** How many messages the subscription has not settled, asked of the broker (absent: `capabilities.backlog` is 'none'). */
  backlog?(topic: string, subscription: string): Promise<Backlog>;
  /** Release connections after subscriptions were closed. */
  close(): Promise<void>;
  /** Drop connections at once, settling nothing: what a crash looks like to the broker. */
  destroy(): Promise<void>;
  /** The broker client, for what the portable API does not cover. */
  native(): unknown;
}

/** What an adapter package exports as `driverFactory`. */
export interface DriverFactory {
  /** URL schemes it serves, without the colon. */
  readonly schemes: readonly string[];
  /** Validate the URL (throwing ConfigError naming the bad part) and connect within a bounded time. */
  open(url: URL): Promise<Driver>;
}
