import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { ConnectionError, describeError } from '@brokerkit/core';
import { PushBuffer, type Delivery, type DriverSubscription, type EncodedMessage } from '@brokerkit/core/driver';
import { fromNats } from './wire.js';

/** How long a pull request waits on the server when nothing comes (the client's minimum). */
const PULL_EXPIRES_MS = 1_000;
/** Pause after a failed pull before the next. */
const PULL_RETRY_MS = 1_000;

/**
 * One attached pull consumer. A pump issues one pull request (a fetch) at a time for the room
 * left in a buffer, and pushes what arrives into it as it arrives; the portable layer's receive
 * loop takes from the buffer. While the buffer is full nothing is pulled: what waits here burns
 * its ack wait, so little waits. One request at a time, not `consume()`'s overlapping ones, so
 * that a close can wait for the last to end: a message given back (a nak) while the server still
 * held a request of this consumer would be sent to it after the close and wait out its ack wait.
 */
export class NatsSubscription implements DriverSubscription {
  private readonly buffer = new PushBuffer<NatsDelivery>();
  private pumping: Promise<void> = Promise.resolve();
  private fetching: ConsumerMessages | undefined;
  private room: (() => void) | undefined;
  private closing = false;
  private crashed = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly stream: string,
    private readonly highWater: number,
    /** Run after close: an ephemeral consumer is deleted. */
    private readonly afterClose?: () => Promise<void>,
  ) {}

  async start(): Promise<void> {
    this.pumping = this.pump();
  }

  async receive(max: number, signal: AbortSignal): Promise<Delivery[]> {
    const taken = await this.buffer.take(max, signal);
    if (this.buffer.length < this.highWater) this.wake();
    return taken;
  }

  /** Stop pulling, wait for the pull request under way to end (at most a second), then give back what waits here (a nak), never acked. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.wake();
    await this.pumping;
    for (const delivery of this.buffer.close()) delivery.release();
    await this.afterClose?.().catch(() => undefined);
  }

  /** What a crash looks like: stop at once and settle nothing (the server redelivers after the ack wait). */
  async abandon(): Promise<void> {
    this.closing = true;
    this.crashed = true;
    this.wake();
    this.buffer.close();
    await this.fetching?.close().catch(() => undefined);
  }

  private async pump(): Promise<void> {
    while (!this.closing) {
      const room = this.highWater - this.buffer.length;
      if (room <= 0) {
        await new Promise<void>((resolve) => (this.room = resolve));
        continue;
      }
      try {
        this.fetching = await this.consumer.fetch({ max_messages: room, expires: PULL_EXPIRES_MS });
        for await (const msg of this.fetching) {
          if (this.crashed) return;
          const delivery = new NatsDelivery(msg, this.stream);
          // Closing: the request is let run to its end; what it brings waits here and is given back after it.
          this.buffer.push(delivery);
        }
      } catch (error) {
        if (this.closing) return;
        // The receive loop reports it; pulling goes on after a pause (the client reconnects by itself).
        this.buffer.fail(new ConnectionError(`pulling from NATS stream ${this.stream} failed: ${describeError(error)}`, { cause: error }));
        await new Promise((resolve) => setTimeout(resolve, PULL_RETRY_MS));
      }
    }
  }

  private wake(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }
}

class NatsDelivery implements Delivery {
  readonly message: EncodedMessage;

  constructor(
    private readonly msg: JsMsg,
    stream: string,
  ) {
    this.message = fromNats(stream, msg.seq, msg.headers, msg.data);
  }

  /** When the message was stored in the stream. */
  get publishedAt(): Date {
    return new Date(Number(this.msg.timestampNanos / 1_000_000n));
  }

  /** JetStream's delivery count: 1 on first delivery, exact. */
  get attempt(): number {
    return this.msg.info.deliveryCount;
  }

  get native(): JsMsg {
    return this.msg;
  }

  /** Resolves once the server confirmed it (a double ack). */
  async ack(): Promise<void> {
    let confirmed: boolean;
    try {
      confirmed = await this.msg.ackAck({ timeout: 10_000 });
    } catch (error) {
      throw new ConnectionError(`NATS did not confirm the ack of ${this.message.id}: ${describeError(error)}`, { cause: error });
    }
    if (!confirmed) throw new ConnectionError(`NATS did not confirm the ack of ${this.message.id}`);
  }

  /** A nak with a delay: the server redelivers it no sooner (native delayed retry). */
  async nack(delayMs: number): Promise<void> {
    this.msg.nak(delayMs > 0 ? delayMs : undefined);
  }

  /** An in-progress ack: the ack wait starts again (in full). */
  async extendLease(): Promise<void> {
    this.msg.working();
  }

  /** Given back on close, for redelivery at once. */
  release(): void {
    this.msg.nak();
  }
}
