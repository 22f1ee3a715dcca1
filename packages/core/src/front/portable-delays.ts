import type { Delivery, Driver, DriverSubscription, EncodedMessage, PortableDelays, SubscriptionSpec } from '../contract/driver.js';
import type { SendReceipt } from '../contract/message.js';
import { sleep } from '../kit/timing.js';
import { sendInBatches } from '../send/encode.js';

/** When a message waiting in a delay queue is due (epoch ms, as text). */
export const DELIVER_AT_HEADER = 'bk-deliver-at';
/** A waiting message's key: it waits without one, so that no queue keeps its key's order (Pub/Sub would hold a short delay behind a long one). */
const KEY_HEADER = 'bk-delayed-key';

/** The queue a topic's delayed sends wait in, where the backend cannot hold a message itself. */
export const delayQueueOf = (topic: string): string => `${topic}.delayed`;


const MOVER_BATCH = 100;
/** Lease of a message the mover holds while it sends it on; short, since a receive cut by a stop (an SQS long poll) leaves what it took invisible this long. */
const MOVER_LEASE_MS = 10_000;
/** A message due within this much is moved now. */
const EARLY_MS = 5;
/** How often a subscriber looks for its topic's delay queue where the mover starts only once it exists. */
const LOOK_EVERY_MS = 10_000;

/**
 * Delayed sends for a backend that cannot hold a message until a time (`traits.portableDelays`):
 * a delayed message goes to `<topic>.delayed` with its due time in a header, and each process
 * with a subscription on the topic runs a mover that takes from that queue (competing with the
 * other processes' movers), sends what is due on to the topic, then acknowledges it, and gives
 * the rest back to wait (a nack with the time left, at most `hopMs`: SQS sets its visibility).
 * At least once: a mover that dies between the send and the ack sends that message again.
 * While no process subscribes to the topic, due messages wait.
 */
export function withPortableDelays(inner: Driver, delays: PortableDelays): Driver {
  const declared = new Map<string, Promise<void>>();
  const movers = new Map<string, MoverEntry>();
  const ensureDelayQueue = (topic: string): Promise<void> => {
    const queue = delayQueueOf(topic);
    let done = declared.get(queue);
    if (!done) {
      done = inner.ensureQueue(queue);
      declared.set(queue, done);
      done.catch(() => declared.delete(queue));
    }
    return done;
  };
  const start = (topic: string, entry: MoverEntry): void => {
    if (entry.mover || movers.get(topic) !== entry) return;
    clearInterval(entry.looking);
    entry.mover = new DelayMover(inner, topic, delays, ensureDelayQueue);
  };
  /** A topic's first subscriber here: run its mover now, or once its delay queue exists. */
  const watch = (topic: string, entry: MoverEntry): void => {
    const exists = delays.queueExists?.bind(delays);
    if (!exists) return start(topic, entry);
    const look = (): void => {
      exists(delayQueueOf(topic)).then((found) => found && start(topic, entry), () => undefined);
    };
    entry.looking = setInterval(look, LOOK_EVERY_MS);
    entry.looking.unref();
    look();
  };
  const stop = async (entry: MoverEntry): Promise<void> => {
    clearInterval(entry.looking);
    await entry.mover?.stop();
  };
  const release = async (topic: string): Promise<void> => {
    const entry = movers.get(topic);
    if (!entry || --entry.users > 0) return;
    movers.delete(topic);
    await stop(entry);
  };
  const stopAll = async (): Promise<void> => {
    const entries = [...movers.values()];
    movers.clear();
    await Promise.all(entries.map(stop));
  };
  const driver: Driver = {
    backend: inner.backend,
    capabilities: inner.capabilities,
    limits: inner.limits,
    traits: inner.traits,
    ensureQueue: (name) => inner.ensureQueue(name),
    ensureSubscription: (spec) => inner.ensureSubscription(spec),
    async send(topic: string, messages: EncodedMessage[]): Promise<SendReceipt[]> {
      const now = Date.now();
      if (!messages.some((message) => message.deliverAt !== undefined && message.deliverAt > now + EARLY_MS)) return inner.send(topic, messages.map(undelayed));
      // In order, each run of immediate or delayed messages in one call.
      const receipts: SendReceipt[] = [];
      let run: EncodedMessage[] = [];
      let runDelayed = false;
      const flush = async (): Promise<void> => {
        if (run.length === 0) return;
        if (runDelayed) await ensureDelayQueue(topic);
        receipts.push(...(await inner.send(runDelayed ? delayQueueOf(topic) : topic, run)));
        run = [];
      };
      for (const message of messages) {
        const delayed = message.deliverAt !== undefined && message.deliverAt > now + EARLY_MS;
        if (delayed !== runDelayed) await flush();
        runDelayed = delayed;
        run.push(delayed ? waiting(message) : undelayed(message));
      }
      await flush();
      // The delay queue exists now: a subscriber here that waited for it moves at once.
      const entry = movers.get(topic);
      if (entry) start(topic, entry);
      return receipts;
    },
    async subscribe(spec: SubscriptionSpec): Promise<DriverSubscription> {
      const subscription = await inner.subscribe(spec);
      let entry = movers.get(spec.topic);
      if (!entry) {
        entry = { users: 0 };
        movers.set(spec.topic, entry);
        watch(spec.topic, entry);
      }
      entry.users += 1;
      let closed = false;
      return {
        receive: (max, signal) => subscription.receive(max, signal),
        async close() {
          if (!closed) {
            closed = true;
            await release(spec.topic);
          }
          await subscription.close();
        },
      };
    },
    ping: () => inner.ping(),
    ...(inner.backlog ? { backlog: (topic: string, subscription: string) => inner.backlog!(topic, subscription) } : {}),
    async close() {
      await stopAll();
      await inner.close();
    },
    async destroy() {
      await stopAll();
      await inner.destroy();
    },
    native: () => inner.native(),
  };
  return driver;
}

/** A topic's mover in this process: shared by its subscriptions here; absent until started. */
interface MoverEntry {
  users: number;
  mover?: DelayMover;
  /** Where the mover waits for the delay queue to exist (`PortableDelays.queueExists`). */
  looking?: NodeJS.Timeout;
}

/** A message to the delay queue: its due time in a header, no `deliverAt` for the driver. */
function waiting(message: EncodedMessage): EncodedMessage {
  const { deliverAt, key, ...rest } = message;
  const headers: Record<string, string> = { ...message.headers, [DELIVER_AT_HEADER]: String(deliverAt) };
  if (key !== undefined) headers[KEY_HEADER] = key;
  return { ...rest, key: undefined, headers };
}

function undelayed(message: EncodedMessage): EncodedMessage {
  if (message.deliverAt === undefined) return message;
  const { deliverAt: _due, ...rest } = message;
  return rest;
}

/** The message sent on to the topic when due: its key back, the headers gone. */
function due(message: EncodedMessage): EncodedMessage {
  const { [DELIVER_AT_HEADER]: _due, [KEY_HEADER]: key, ...headers } = message.headers;
  return { id: message.id, key: key ?? message.key, headers, body: message.body };
}

/** Moves one topic's due messages from its delay queue into it, in this process. */
class DelayMover {
  private readonly stopping = new AbortController();
  private readonly done: Promise<void>;

  constructor(
    private readonly driver: Driver,
    private readonly topic: string,
    private readonly delays: PortableDelays,
    ensureDelayQueue: (topic: string) => Promise<void>,
  ) {
    this.done = ensureDelayQueue(topic).then(() => this.run()).catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.done;
  }

  private async run(): Promise<void> {
    const queue = delayQueueOf(this.topic);
    const spec: SubscriptionSpec = {
      topic: queue,
      subscription: queue,
      durable: true,
      ordering: 'none',
      ackTimeoutMs: MOVER_LEASE_MS,
      maxInFlight: this.delays.maxWaiting ?? MOVER_BATCH,
      maxAttempts: 1_000_000,
      deadLetterQueue: undefined,
      delayMover: true,
    };
    let subscription: DriverSubscription | undefined;
    while (!this.stopping.signal.aborted) {
      try {
        subscription ??= await this.driver.subscribe(spec);
        const deliveries = await subscription.receive(MOVER_BATCH, this.stopping.signal);
        await this.move(deliveries);
      } catch {
        // The broker is away or the subscription broke: try again shortly, with a new one.
        await subscription?.close().catch(() => undefined);
        subscription = undefined;
        await sleep(1_000, this.stopping.signal);
      }
    }
    await subscription?.close().catch(() => undefined);
  }

  private async move(deliveries: Delivery[]): Promise<void> {
    const now = Date.now();
    const ready: Delivery[] = [];
    const waits: Promise<void>[] = [];
    for (const delivery of deliveries) {
      const at = Number(delivery.message.headers[DELIVER_AT_HEADER]);
      const left = Number.isFinite(at) ? at - now : 0;
      if (left <= EARLY_MS) ready.push(delivery);
      else waits.push(delivery.nack(Math.min(left, this.delays.hopMs)));
    }
    if (ready.length > 0) {
      try {
        await sendInBatches(this.driver, this.topic, ready.map((delivery) => due(delivery.message)));
      } catch (error) {
        await Promise.allSettled(ready.map((delivery) => delivery.nack(1_000)));
        throw error;
      }
      waits.push(...ready.map((delivery) => delivery.ack()));
    }
    await Promise.all(waits);
  }
}
