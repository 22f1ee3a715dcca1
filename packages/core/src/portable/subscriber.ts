import type { RunnerStats, SubscriptionRunner } from './runner.js';

/** A running Consumer or Subscriber: handlers are called until it is closed. */
export class Subscriber implements AsyncDisposable {
  constructor(
    /** Topic it reads (for a Consumer, the queue). */
    readonly topic: string,
    /** Subscription it shares with its competing instances (for a Consumer, the queue). */
    readonly subscription: string,
    private readonly runner: SubscriptionRunner,
    private readonly onClosed: () => void,
  ) {}

  /** Counters since start: received, acked, retried, dead-lettered, discarded, held. */
  get stats(): Readonly<RunnerStats> {
    return { ...this.runner.stats };
  }

  /** Stop fetching, finish in-flight handlers (within closeTimeoutMs), settle them and detach. */
  async close(): Promise<void> {
    try {
      await this.runner.close();
    } finally {
      this.onClosed();
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A work-queue consumer: instances on the same queue share its messages. */
export type Consumer = Subscriber;
