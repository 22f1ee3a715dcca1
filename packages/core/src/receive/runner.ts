import type { Span } from '@opentelemetry/api';
import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Delivery, Driver, DriverSubscription, SubscriptionSpec } from '../contract/driver.js';
import { Header, type DeadLetterReason, type ReceivedMessage } from '../contract/message.js';
import type { BatchHandler, Handler, HandlerContext } from '../contract/options.js';
import { BrokerkitError, ConnectionError, describeError } from '../errors/index.js';
import { backoffDelayMs } from './backoff.js';
import type { CloudEventAttributes } from '../contract/cloud-event.js';
import { readCloudEvent } from '../message/cloud-events.js';
import type { Codec } from '../message/codec.js';
import { decideAfterFailure, withDeadLetterHeaders } from './dead-letter.js';
import { KeySerializer } from './key-serializer.js';
import { LeaseKeeper, type KeptLease } from './lease-keeper.js';
import { messageSlots, type ResolvedHandlerOptions } from './handler-options.js';
import { BatchCollector } from './batches.js';
import { validateBody } from '../message/schema.js';
import { ConsumeTelemetry, endSpan, type AttemptTrace } from '../telemetry/telemetry.js';
import { SignalledSleeps, sleep, yieldToIo } from '../kit/timing.js';

/** Counters of one consumer or subscriber instance. */
export interface RunnerStats {
  received: number;
  acked: number;
  retried: number;
  deadLettered: number;
  discarded: number;
  /** Received and not yet settled. */
  held: number;
}

/** What an attempt asked for other than an ack: a retry (it failed, or asked) or the DLQ. */
type HandlerOutcome =
  | { kind: 'failed'; error: string; delayMs?: number }
  | { kind: 'dead-letter'; reason: string };

/** One received message while this instance holds it; also the record of its current attempt. */
interface Lease extends AttemptTrace, KeptLease {
  settled: boolean;
  active: boolean;
  /** What the handler asked for with `context.retry()` / `context.deadLetter()` in the current attempt. */
  explicit: HandlerOutcome | undefined;
  /** Counted in `busy`: received, and its handler not yet done. */
  busy: boolean;
}

const ack = (delivery: Delivery): Promise<void> => delivery.ack();
const release = (delivery: Delivery): Promise<void> => delivery.nack(0);

/** Smallest wait after a failed receive; doubles up to 30 s while the broker stays unreachable. */
const RECEIVE_RETRY_MS = 100;

/**
 * The receive loop and handler semantics shared by every backend: bounded concurrency,
 * per-key serial execution, retry with backoff, dead-lettering, lease extension and
 * graceful shutdown. Drivers only supply deliveries and the means to settle them.
 */
export class SubscriptionRunner {
  readonly stats: RunnerStats = { received: 0, acked: 0, retried: 0, deadLettered: 0, discarded: 0, held: 0 };
  /**
   * Messages taking a slot: waiting for their key's turn, or in their handler. A message whose
   * ack is on its way to the broker no longer takes one, so the next receive overlaps the ack's
   * round trip; it is still held (`stats.held`), and at most `concurrency` of those are let be.
   */
  private busy = 0;
  private subscription: DriverSubscription | undefined;
  private readonly fetching = new AbortController();
  /** Retries waiting in place; a close or crash cuts them all short. */
  private readonly retryWaits = new SignalledSleeps(this.fetching.signal);
  private readonly handlersSignal = new AbortController();
  private readonly serializer = new KeySerializer();
  private readonly leases = new Set<Lease>();
  /** Resolves close()'s wait once no handler is at work. */
  private whenIdle: (() => void) | undefined;
  /** Extends the leases of messages being processed, all on one timer. */
  private readonly leaseKeeper: LeaseKeeper;
  private slotWaiter: (() => void) | undefined;
  private loopDone: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  /** After the close timeout, or a crash: nothing more is settled by this instance. */
  private stopped = false;
  private crashed = false;
  private readonly telemetry: ConsumeTelemetry;
  /** Receives that failed in a row (0 while the broker answers), and the last failure. */
  receiveFailures = 0;
  lastReceiveError: string | undefined;

  /** Each message's attempt: the handler, or for a batch handler, joining a batch (`BatchCollector`). */
  private readonly handler: Handler;
  /** Messages taking a slot at most: `concurrency`, times `maxMessages` for a batch handler. */
  private readonly slots: number;

  constructor(
    private readonly driver: Driver,
    private readonly spec: SubscriptionSpec,
    private readonly options: ResolvedHandlerOptions,
    private readonly codec: Codec,
    /** A `BatchHandler` where `options.batch` is set. */
    handler: Handler | BatchHandler,
    /** The topic's schema: bodies that fail it are dead-lettered (`validation-error`). */
    private readonly schema?: StandardSchemaV1,
    /** How a body that arrives without a content type is decoded; undefined: as bytes. */
    private readonly defaultContentType?: string,
  ) {
    this.telemetry = new ConsumeTelemetry(driver.backend, spec.topic, spec.subscription, options.batch !== undefined);
    this.slots = messageSlots(options);
    this.handler = options.batch
      ? new BatchCollector(handler as BatchHandler, options.batch, options.concurrency, (messages, call) => this.telemetry.batch(messages, call)).handle
      : (handler as Handler);
    this.leaseKeeper = new LeaseKeeper(this.leases, options.ackTimeoutMs, (error) => options.onError(asBrokerkitError(error, 'extending a lease failed')));
  }

  async start(): Promise<void> {
    this.subscription = await this.driver.subscribe(this.spec);
    this.loopDone = this.receiveLoop(this.subscription);
    this.leaseKeeper.start();
    this.options.signal?.addEventListener('abort', () => void this.close().catch(this.options.onError), { once: true });
  }

  /** Stop fetching, let in-flight handlers finish within closeTimeoutMs, settle them, detach. */
  close(): Promise<void> {
    this.closing ??= this.drainAndDetach();
    return this.closing;
  }

  /** Stop at once without settling anything — what a process crash looks like to the broker. */
  crash(): void {
    this.crashed = true;
    this.stopped = true;
    this.leaseKeeper.stop();
    this.fetching.abort();
    this.handlersSignal.abort();
    this.wakeLoop();
  }

  private async drainAndDetach(): Promise<void> {
    this.fetching.abort();
    this.wakeLoop();
    await this.loopDone;
    const timeout = new AbortController();
    const drained = this.stats.held === 0 ? Promise.resolve(true) : new Promise<boolean>((resolve) => (this.whenIdle = () => resolve(true)));
    const finished = await Promise.race([drained, sleep(this.options.closeTimeoutMs, timeout.signal).then(() => false)]);
    timeout.abort();
    if (!finished) {
      this.handlersSignal.abort();
      this.stopped = true;
      this.leaseKeeper.stop();
      // Unfinished work goes back to the broker at once; a handler finishing later settles nothing.
      await Promise.allSettled([...this.leases].filter((l) => !l.settled).map((l) => this.settle(l, release, true)));
    }
    this.leaseKeeper.stop();
    await this.subscription?.close();
  }

  private async receiveLoop(subscription: DriverSubscription): Promise<void> {
    while (!this.fetching.signal.aborted) {
      let free = this.freeSlots();
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.slotWaiter = resolve));
        continue;
      }
      if (free < this.slots) {
        // Slots free up one settle at a time, often many in the same I/O turn (acks answered
        // together). Let that turn finish first, so one receive asks for all of them: one broker
        // round trip instead of one per slot on pull brokers, at the cost of one macrotask.
        await yieldToIo();
        free = this.freeSlots();
      }
      let deliveries: Delivery[];
      try {
        deliveries = await subscription.receive(free, this.fetching.signal);
        this.receiveFailures = 0;
      } catch (error) {
        if (this.fetching.signal.aborted) break;
        this.receiveFailures += 1;
        const failure = asBrokerkitError(error, `receiving from ${this.spec.subscription} failed`);
        this.lastReceiveError = failure.message;
        this.options.onError(failure);
        await sleep(Math.min(30_000, RECEIVE_RETRY_MS * 2 ** this.receiveFailures), this.fetching.signal);
        continue;
      }
      this.telemetry.received(deliveries.length);
      for (const delivery of deliveries) this.dispatch(delivery);
    }
  }

  private freeSlots(): number {
    return Math.min(this.slots - this.busy, 2 * this.slots - this.stats.held);
  }

  /** The handler is done with it: its slot is free, though it may not be settled yet. The caller wakes the loop. */
  private freeSlot(lease: Lease): void {
    if (!lease.busy) return;
    lease.busy = false;
    this.busy -= 1;
  }

  private wakeLoop(): void {
    const waiter = this.slotWaiter;
    this.slotWaiter = undefined;
    waiter?.();
  }

  private dispatch(delivery: Delivery): void {
    if (this.crashed) return;
    this.stats.received += 1;
    this.stats.held += 1;
    this.busy += 1;
    const lease: Lease = { delivery, settled: false, active: false, busy: true, extendedAt: delivery.extendLease ? performance.now() : 0, explicit: undefined, span: undefined, failed: false, thrown: undefined, startedAt: 0 };
    this.leases.add(lease);
    const key = this.options.ordering === 'key' ? delivery.message.key : undefined;
    // Its slot is taken from now, also while it waits for its key's turn.
    if (key === undefined) void this.handle(lease);
    else void this.serializer.run(key, () => this.handle(lease));
  }

  /**
   * Process one lease (in its key's turn), then free its slot. Never rejects. Attempts follow
   * one another here until the message is settled (a retry in place loops); the handler's
   * promise is awaited in this frame, not in a wrapper per message.
   */
  private async handle(lease: Lease): Promise<void> {
    const { delivery } = lease;
    try {
      if (this.stopped) {
        await this.settle(lease, release);
        return;
      }
      lease.active = true;
      if (delivery.attempt > this.options.retry.maxAttempts) {
        // Delivered more often than allowed without ever being settled: whatever handles it
        // dies first (a crash loop). Stop the loop here, on every backend.
        await this.deadLetter(lease, delivery.attempt - 1, 'max-attempts', `delivered ${delivery.attempt} times without being settled: the consumer crashed or lost its lease each time`);
        return;
      }
      const { headers } = delivery.message;
      const cloudEvent = readCloudEvent(headers, headers[Header.contentType]);
      let body: unknown;
      try {
        // A message from another producer may name its content type only as a CloudEvent.
        body = this.codec.decode(delivery.message.body, headers[Header.contentType] ?? cloudEvent?.datacontenttype ?? this.defaultContentType);
      } catch (error) {
        await this.deadLetter(lease, delivery.attempt, 'decode-error', describeError(error));
        return;
      }
      if (this.schema) {
        try {
          body = await validateBody(this.schema, body, this.spec.topic, `the body of message ${delivery.message.id}`);
        } catch (error) {
          await this.deadLetter(lease, delivery.attempt, 'validation-error', describeError(error));
          return;
        }
      }
      for (let attempt = delivery.attempt; ; attempt += 1) {
        const pending = this.beginAttempt(lease, body, cloudEvent, attempt);
        if (pending !== undefined) {
          try {
            await pending;
          } catch (thrown) {
            lease.failed = true;
            lease.thrown = thrown;
          }
        }
        this.telemetry.end(lease);
        const span = lease.span as Span;
        if (this.stopped) {
          this.telemetry.settled(span, 'release', lease.failed ? lease.thrown : undefined);
          return;
        }
        if (!lease.failed && lease.explicit === undefined) {
          const acked = this.settle(lease, ack);
          this.freeSlot(lease);
          this.wakeLoop();
          await acked;
          this.stats.acked += 1;
          this.telemetry.settled(span, 'ack');
          return;
        }
        if (!(await this.afterFailure(lease, attempt))) return;
      }
    } catch (error) {
      this.options.onError(asBrokerkitError(error, 'handling a message failed'));
    } finally {
      lease.active = false;
      this.leases.delete(lease);
      this.stats.held -= 1;
      this.freeSlot(lease);
      if (this.stats.held === 0) this.whenIdle?.();
      this.wakeLoop();
    }
  }

  /**
   * After an attempt that failed, or asked for a retry or the DLQ: dead-letter, discard or
   * hand back for a delayed retry. True: retry in place now (ordering by key on a broker that
   * would let later messages of the key overtake a delayed one).
   */
  private async afterFailure(lease: Lease, attempt: number): Promise<boolean> {
    const outcome: HandlerOutcome = lease.failed ? { kind: 'failed', error: describeError(lease.thrown) } : (lease.explicit as HandlerOutcome);
    const span = lease.span as Span;
    const thrown = lease.failed ? lease.thrown : undefined;
    if (outcome.kind === 'dead-letter') {
      this.telemetry.settled(span, 'dead-letter', thrown);
      await this.deadLetter(lease, attempt, 'explicit', outcome.reason);
      return false;
    }
    const decision = decideAfterFailure(attempt, this.options.retry.maxAttempts, this.options.deadLetterQueue !== undefined);
    this.telemetry.settled(span, decision, thrown);
    if (decision === 'dead-letter') {
      await this.deadLetter(lease, attempt, 'max-attempts', outcome.error);
      return false;
    }
    if (decision === 'discard') {
      await this.discard(lease, attempt, outcome.error);
      return false;
    }
    const delayMs = outcome.delayMs ?? backoffDelayMs(attempt, this.options.retry.backoff);
    this.stats.retried += 1;
    if (!this.mustRetryInPlace(lease.delivery.message.key)) {
      await this.settle(lease, (held) => held.nack(delayMs));
      return false;
    }
    // Hold the key here. A close cuts the wait short and hands the message back.
    if (await this.retryWaits.sleep(delayMs)) return true;
    await this.settle(lease, release);
    return false;
  }

  /**
   * With ordering by key, a message handed back for a delayed retry must not be overtaken by
   * a later one of its key. The broker prevents that only for messages it has not yet
   * delivered (`retryKeepsKeyOrder`): later messages of the key that this instance already
   * holds (an SQS FIFO receive returns several of one group) would run first. Then the retry
   * waits here, holding the key.
   */
  private mustRetryInPlace(key: string | undefined): boolean {
    if (this.options.ordering !== 'key' || key === undefined) return false;
    return !this.driver.traits.retryKeepsKeyOrder || this.serializer.pending(key) > 1;
  }

  /**
   * Begin one handler attempt inside its consumer span (ended by the caller once the outcome
   * is settled). Its outcome goes into the lease: `failed`/`thrown`, or `explicit` when the
   * handler called `retry()` or `deadLetter()`. Returns the handler's promise, if it returned one.
   */
  private beginAttempt(lease: Lease, body: unknown, cloudEvent: CloudEventAttributes | undefined, attempt: number): PromiseLike<void> | undefined {
    const { delivery } = lease;
    lease.explicit = undefined;
    const context: HandlerContext = {
      signal: this.handlersSignal.signal,
      retry: (delayMs?: number) => {
        if (delayMs !== undefined && !(Number.isFinite(delayMs) && delayMs >= 0)) {
          throw new BrokerkitError('CONFIG', `context.retry(delayMs): expected a delay ≥ 0 in ms, got ${delayMs}`);
        }
        lease.explicit = { kind: 'failed', error: 'retry requested by the handler', ...(delayMs === undefined ? {} : { delayMs }) };
      },
      deadLetter: (reason?: string) => {
        lease.explicit = { kind: 'dead-letter', reason: reason ?? 'dead-lettered by the handler' };
      },
    };
    const message: ReceivedMessage = {
      id: delivery.message.id,
      body,
      key: delivery.message.key,
      headers: delivery.message.headers,
      publishedAt: delivery.publishedAt,
      attempt,
      topic: this.spec.topic,
      subscription: this.spec.subscription,
      cloudEvent,
      native: delivery.native,
    };
    return this.telemetry.begin(delivery.message, attempt, () => this.handler(message, context), lease);
  }

  private async deadLetter(lease: Lease, attempts: number, reason: DeadLetterReason, lastError: string | undefined): Promise<void> {
    const { delivery } = lease;
    const queue = this.options.deadLetterQueue;
    if (queue === undefined) {
      await this.discard(lease, attempts, lastError);
      return;
    }
    const facts = { topic: this.spec.topic, subscription: this.spec.subscription, attempts, reason, lastError, publishedAt: delivery.publishedAt };
    const moved = withDeadLetterHeaders(delivery.message, facts);
    const span = this.telemetry.deadLetterSend(moved.headers, queue, reason);
    const failed = await this.settle(lease, async () => {
      if (delivery.deadLetter) {
        await delivery.deadLetter(queue, moved);
      } else {
        // Send first, then ack: a crash in between duplicates into the DLQ, never loses.
        await this.driver.send(queue, [moved]);
        await delivery.ack();
      }
    });
    endSpan(span, failed);
    this.stats.deadLettered += 1;
  }

  private async discard(lease: Lease, attempts: number, lastError: string | undefined): Promise<void> {
    await this.settle(lease, ack);
    this.stats.discarded += 1;
    this.options.onError(
      new BrokerkitError('UNSUPPORTED', `message ${lease.delivery.message.id} on ${this.spec.subscription} discarded after ${attempts} attempts with dead-lettering off; last error: ${lastError ?? 'none'}`),
    );
  }

  /** Settle once; errors (a lost connection) go to onError and the broker redelivers. Resolves with the error, if any. */
  private async settle(lease: Lease, action: (delivery: Delivery) => Promise<void>, evenIfStopped = false): Promise<unknown> {
    if (lease.settled || this.crashed || (this.stopped && !evenIfStopped)) return undefined;
    lease.settled = true;
    try {
      await action(lease.delivery);
      return undefined;
    } catch (error) {
      this.options.onError(asBrokerkitError(error, `settling message ${lease.delivery.message.id} failed; the broker will redeliver it`));
      return error;
    }
  }
}

function asBrokerkitError(error: unknown, context: string): BrokerkitError {
  if (error instanceof BrokerkitError) return error;
  return new ConnectionError(`${context}: ${describeError(error)}`, { cause: error });
}
