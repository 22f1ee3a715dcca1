import type { Backlog } from '../contract/capabilities.js';
import type { RunnerStats, SubscriptionRunner } from '../receive/runner.js';

export interface SubscriberHealth {
  topic: string;
  subscription: string;
  receiving: boolean;
  /** Messages received and not yet settled. */
  held: number;
  failedReceives?: number;
  lastError?: string;
  /** The subscription's backlog, where the backend tells it (`broker.backlog()`), or why it could not be asked. */
  backlog?: Backlog;
  backlogError?: string;
}

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

  /** Whether it is receiving: false while receives fail in a row (the broker is unreachable). */
  health(): SubscriberHealth {
    const { receiveFailures, lastReceiveError } = this.runner;
    return {
      topic: this.topic,
      subscription: this.subscription,
      receiving: receiveFailures === 0,
      held: this.runner.stats.held,
      ...(receiveFailures > 0 ? { failedReceives: receiveFailures, lastError: lastReceiveError ?? 'unknown' } : {}),
    };
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
