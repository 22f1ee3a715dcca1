import type { Delivery, Driver, EncodedMessage, SubscriptionSpec } from '../contract/driver.js';
import { Header, type Headers, type SendReceipt } from '../contract/message.js';
import { ConfigError, describeError } from '../errors/index.js';
import type { Codec } from '../message/codec.js';
import { requireNumber } from '../config/options.js';
import { requireName } from '../config/names.js';
import { sendInBatches } from '../send/encode.js';
import { withoutDeadLetterHeaders } from '../receive/dead-letter.js';

/** One message in a dead-letter queue, as `peek()` shows it and a `filter` sees it. */
export interface DeadLetter {
  /** The id it had before it was dead-lettered: the one a replay sends it with. */
  id: string;
  key: string | undefined;
  /** Where it was dead-lettered from; undefined for a message brokerkit did not dead-letter. */
  originalTopic: string | undefined;
  originalSubscription: string | undefined;
  /** 'max-attempts', 'explicit', 'decode-error', 'validation-error' (or what another tool wrote). */
  reason: string | undefined;
  attempts: number | undefined;
  lastError: string | undefined;
  deadLetteredAt: Date | undefined;
  /** When it was first published, where the dead-letter metadata tells it. */
  publishedAt: Date | undefined;
  /** Its headers without the dead-letter metadata above (trace context and content type included). */
  headers: Headers;
  /** The body decoded by its content type; undefined when it cannot be decoded (see `decodeError`). */
  body: unknown;
  decodeError?: string;
  /** The body as it is stored. */
  bytes: Uint8Array;
}

export interface DeadLetterScanOptions {
  /** Only messages this returns true for are replayed or purged (or shown); the others stay. */
  filter?: (letter: DeadLetter) => boolean;
  /** At most this many are acted on (peek: default 10; replay and purge: all). */
  limit?: number;
  /**
   * Stop once nothing new arrived for this long (default 2 000 ms). Where the backend counts its
   * backlog exactly, the scan stops 300 ms after it has seen that many.
   */
  idleMs?: number;
  /** Called about once a second during a long replay or purge. */
  onProgress?: (progress: DeadLetterSummary) => void;
  signal?: AbortSignal;
}

export interface ReplayOptions extends DeadLetterScanOptions {
  /** Send here instead of each message's original topic. */
  to?: string;
}

/** What a replay or purge did. */
export interface DeadLetterSummary {
  /** Messages looked at (each once). */
  seen: number;
  /** Sent back and removed from the dead-letter queue. */
  replayed: number;
  /** Removed without sending (purge). */
  purged: number;
  /** Left in the queue: not matched by the filter, or past the limit. */
  skipped: number;
  /** Left in the queue because acting on them failed (`errors` says why). */
  failed: number;
  /** Further copies of a message replayed or purged in this scan (the queue held it twice), removed with it. */
  duplicates: number;
  errors: string[];
  durationMs: number;
}

/** How long a scanned message is leased; held ones are extended every half of it where the driver can. */
const LEASE_MS = 20_000;
/** Most messages a scan holds unsettled at once (those the filter skipped, until the scan ends). */
const MAX_HELD = 10_000;
/** Most messages one receive takes, and one replay sends before acknowledging them: what a crash can duplicate. */
const BATCH = 100;
const DEFAULT_IDLE_MS = 2_000;
/** Once an exact backlog's count has been seen, stop after this long without more. */
const IDLE_AFTER_COUNT_MS = 300;
const MAX_ERRORS_KEPT = 20;

/**
 * A dead-letter queue, to look into and to empty: `broker.deadLetters('orders')`.
 *
 * Portable on every backend: it consumes the dead-letter queue like any queue, sends what it
 * replays, and acknowledges each message only after the broker confirmed its send, so a
 * process killed halfway loses nothing (the unacknowledged come back: at least once). What it
 * does not act on (peeked, skipped by the filter, past the limit) it holds until the scan ends,
 * then gives back at once.
 */
export class DeadLetters {
  constructor(
    private readonly driver: Driver,
    private readonly codec: Codec,
    /** The dead-letter queue's name. */
    readonly queue: string,
    private readonly assertOpen: () => void,
  ) {}

  /** Up to `limit` (default 10) messages, left in the queue. */
  async peek(options: Omit<DeadLetterScanOptions, 'onProgress'> = {}): Promise<DeadLetter[]> {
    const shown: DeadLetter[] = [];
    await this.scan({ ...options, limit: options.limit ?? 10 }, async (batch) => {
      for (const { letter } of batch) shown.push(letter);
      return { acted: [], held: [], left: batch.map(({ delivery }) => delivery) };
    });
    return shown;
  }

  /**
   * Send messages back to their original topic (or `to`) with their id, key, body and trace
   * context, a `bk-replayed-at` header and none of the dead-letter metadata, so they start again
   * at attempt 1; each leaves the dead-letter queue only once its send is confirmed.
   */
  async replay(options: ReplayOptions = {}): Promise<DeadLetterSummary> {
    const to = options.to === undefined ? undefined : requireName('options.to', options.to);
    return this.scan(options, async (batch, summary) => {
      const replayedAt = new Date().toISOString();
      const byTopic = new Map<string, { delivery: Delivery; message: EncodedMessage }[]>();
      const held: Delivery[] = [];
      for (const { delivery, letter } of batch) {
        const topic = to ?? letter.originalTopic;
        if (topic === undefined) {
          note(summary, `${letter.id}: no ${Header.originalTopic} header (not dead-lettered by brokerkit): replay it with \`to\``);
          summary.failed += 1;
          held.push(delivery);
          continue;
        }
        const list = byTopic.get(topic) ?? [];
        list.push({ delivery, message: replayable(delivery.message, letter.id, replayedAt) });
        byTopic.set(topic, list);
      }
      const acted: Delivery[] = [];
      for (const [topic, list] of byTopic) {
        const receipts: SendReceipt[] = [];
        await sendInBatches(this.driver, topic, list.map(({ message }) => message), receipts).catch((error: unknown) => note(summary, `sending to ${topic}: ${describeError(error)}`));
        const sent = receipts.length;
        for (const [index, { delivery }] of list.entries()) (index < sent ? acted : held).push(delivery);
        summary.failed += list.length - sent;
      }
      summary.replayed += acted.length;
      return { acted, held };
    });
  }

  /** Remove messages (those the filter matches, up to `limit`) without sending them anywhere. */
  async purge(options: DeadLetterScanOptions = {}): Promise<DeadLetterSummary> {
    return this.scan(options, async (batch, summary) => {
      summary.purged += batch.length;
      return { acted: batch.map(({ delivery }) => delivery), held: [] };
    });
  }

  /**
   * Consume the queue until the limit, the idle time or the signal; pass each new matching
   * message to `act` in batches of what one receive returned; acknowledge what it acted on,
   * hold the rest, and give back everything held at the end.
   */
  private async scan(
    options: DeadLetterScanOptions,
    /** Acted on: acknowledged; held: given back at the end; left: as the scan leaves what it skips (`leave`). */
    act: (batch: { delivery: Delivery; letter: DeadLetter }[], summary: DeadLetterSummary) => Promise<{ acted: Delivery[]; held: Delivery[]; left?: Delivery[] }>,
  ): Promise<DeadLetterSummary> {
    this.assertOpen();
    const limit = options.limit === undefined ? Infinity : requireNumber('options.limit', options.limit, { min: 0, integer: true });
    const idleMs = requireNumber('options.idleMs', options.idleMs ?? DEFAULT_IDLE_MS, { min: 1, max: 600_000 });
    if (options.filter !== undefined && typeof options.filter !== 'function') throw new ConfigError('options.filter', 'expected a function (letter) => boolean');
    const started = Date.now();
    const summary: DeadLetterSummary = { seen: 0, replayed: 0, purged: 0, skipped: 0, failed: 0, duplicates: 0, errors: [], durationMs: 0 };
    await this.driver.ensureQueue(this.queue);
    const expected = await this.exactBacklog();
    const spec: SubscriptionSpec = {
      topic: this.queue,
      subscription: this.queue,
      durable: true,
      ordering: 'none',
      ackTimeoutMs: LEASE_MS,
      // Held messages stay unsettled: flow control must not stop at them.
      maxInFlight: MAX_HELD + BATCH,
      maxAttempts: 1_000,
      deadLetterQueue: undefined,
    };
    const subscription = await this.driver.subscribe(spec);
    const signal = options.signal ?? new AbortController().signal;
    const held = new Map<Delivery, number>();
    /** Each message id seen: acted on ('done'), or left in the queue. */
    const seen = new Map<string, 'done' | 'left'>();
    let acted = 0;
    let lastNew = Date.now();
    let lastProgress = Date.now();
    // Not cut short by a timer: every driver's receive returns within a bounded wait, and a cut
    // SQS long poll can leave what the server already handed out invisible for the lease.
    const receive = (): Promise<Delivery[]> => subscription.receive(Math.min(BATCH, MAX_HELD - held.size), signal);
    let next: Promise<Delivery[]> | undefined;
    try {
      while (!options.signal?.aborted && acted < limit && held.size < MAX_HELD) {
        const quiet = expected !== undefined && summary.seen >= expected ? IDLE_AFTER_COUNT_MS : idleMs;
        if (lastNew + quiet <= Date.now()) break;
        const deliveries = await (next ?? receive());
        // The next receive runs while this batch is sent and acknowledged (SQS: 10 a receive, ~150 ms each here).
        // After an empty one the loop first asks whether the queue has gone quiet.
        next = deliveries.length > 0 && acted + deliveries.length < limit ? receive() : undefined;
        this.extendHeld(held);
        const batch: { delivery: Delivery; letter: DeadLetter }[] = [];
        const left: Delivery[] = [];
        const duplicates: Delivery[] = [];
        for (const delivery of deliveries) {
          const identity = delivery.message.id;
          const before = seen.get(identity);
          if (before === 'done') {
            // Another copy of one replayed or purged in this scan (the queue held it twice): it goes too.
            duplicates.push(delivery);
            continue;
          }
          if (before === 'left') {
            // Its lease lapsed while held, or a release or a move came back: hold this copy too.
            held.set(delivery, Date.now());
            continue;
          }
          seen.set(identity, 'left');
          summary.seen += 1;
          lastNew = Date.now();
          const letter = this.letterOf(delivery.message);
          if (acted + batch.length < limit && (options.filter === undefined || options.filter(letter))) {
            batch.push({ delivery, letter });
            continue;
          }
          summary.skipped += 1;
          left.push(delivery);
        }
        for (const delivery of await this.leave(left, summary)) held.set(delivery, Date.now());
        summary.duplicates += duplicates.length;
        await settleAll(duplicates, (delivery) => delivery.ack(), summary);
        if (batch.length === 0) continue;
        acted += batch.length;
        const outcome = await act(batch, summary);
        for (const delivery of [...outcome.held, ...(await this.leave(outcome.left ?? [], summary))]) held.set(delivery, Date.now());
        for (const delivery of outcome.acted) seen.set(delivery.message.id, 'done');
        await settleAll(outcome.acted, (delivery) => delivery.ack(), summary);
        if (options.onProgress && Date.now() - lastProgress >= 1_000) {
          lastProgress = Date.now();
          options.onProgress({ ...summary, durationMs: Date.now() - started });
        }
      }
    } finally {
      // Give back at once what is left (and what a receive under way brings), then detach.
      for (const delivery of next ? await next.catch(() => []) : []) held.set(delivery, Date.now());
      await settleAll([...held.keys()], (delivery) => delivery.nack(0), summary);
      await subscription.close();
    }
    summary.durationMs = Date.now() - started;
    return summary;
  }

  /**
   * What the scan leaves in the queue: held until the end — or, where an unsettled message keeps
   * the rest of its key from view (`traits.unsettledBlocksKey`), sent to the back of the queue
   * and acknowledged once that send is confirmed. Returns what is to be held.
   */
  private async leave(deliveries: Delivery[], summary: DeadLetterSummary): Promise<Delivery[]> {
    if (!this.driver.traits.unsettledBlocksKey) return deliveries;
    const keyed = deliveries.filter((delivery) => delivery.message.key !== undefined);
    if (keyed.length === 0) return deliveries;
    try {
      await sendInBatches(this.driver, this.queue, keyed.map((delivery) => delivery.message));
    } catch (error) {
      note(summary, `moving skipped messages to the back of ${this.queue}: ${describeError(error)}`);
      return deliveries;
    }
    await settleAll(keyed, (delivery) => delivery.ack(), summary);
    return deliveries.filter((delivery) => delivery.message.key === undefined);
  }

  /** How many the queue holds, where the backend counts it exactly. */
  private async exactBacklog(): Promise<number | undefined> {
    if (this.driver.capabilities.backlog !== 'exact' || !this.driver.backlog) return undefined;
    try {
      return (await this.driver.backlog(this.queue, this.queue)).messages;
    } catch {
      return undefined;
    }
  }

  /** Held messages keep their lease while the scan goes on, where the driver can extend it. */
  private extendHeld(held: Map<Delivery, number>): void {
    const now = Date.now();
    for (const [delivery, since] of held) {
      if (!delivery.extendLease || now - since < LEASE_MS / 2) continue;
      held.set(delivery, now);
      delivery.extendLease(LEASE_MS).catch(() => undefined);
    }
  }

  private letterOf(message: EncodedMessage): DeadLetter {
    const headers = withoutDeadLetterHeaders(message.headers);
    const meta = message.headers;
    const attempts = meta[Header.attempts] === undefined ? undefined : Number(meta[Header.attempts]);
    const letter: DeadLetter = {
      id: meta[Header.originalId] || message.id,
      key: message.key,
      originalTopic: meta[Header.originalTopic],
      originalSubscription: meta[Header.originalSubscription],
      reason: meta[Header.deadLetterReason],
      attempts: Number.isFinite(attempts) ? attempts : undefined,
      lastError: meta[Header.lastError],
      deadLetteredAt: dateOf(meta[Header.deadLetteredAt]),
      publishedAt: dateOf(meta[Header.originalPublishedAt]),
      headers,
      body: undefined,
      bytes: message.body,
    };
    try {
      letter.body = this.codec.decode(message.body, message.headers[Header.contentType]);
    } catch (error) {
      letter.decodeError = describeError(error);
    }
    return letter;
  }
}

/** The message a replay sends: the same id, key, body and headers, less the dead-letter metadata, plus when it was replayed. */
function replayable(message: EncodedMessage, id: string, replayedAt: string): EncodedMessage {
  const headers = withoutDeadLetterHeaders(message.headers);
  headers[Header.replayedAt] = replayedAt;
  return { id, key: message.key, headers, body: message.body };
}

/** Up to `max` deliveries, waiting at most `waitMs` (or until `signal`). */
async function settleAll(deliveries: Delivery[], settle: (delivery: Delivery) => Promise<void>, summary: DeadLetterSummary): Promise<void> {
  const results = await Promise.allSettled(deliveries.map(settle));
  for (const result of results) if (result.status === 'rejected') note(summary, describeError(result.reason));
}

function note(summary: DeadLetterSummary, error: string): void {
  if (summary.errors.length < MAX_ERRORS_KEPT) summary.errors.push(error);
}

function dateOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
