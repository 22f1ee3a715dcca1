import type { DeadLetterReason, ReceivedMessage } from './message.js';

/** Exponential backoff between attempts: `initialMs × multiplier^(attempt-1)`, capped at `maxMs`. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier: number;
  /** 0 = exact delays; 1 = "full jitter" (uniform in [0, delay]). Values in between shrink the range. */
  jitter: number;
}

export interface RetryOptions {
  /** Deliveries before the message is dead-lettered (≥ 1). */
  maxAttempts: number;
  backoff: BackoffOptions;
}

/** Where exhausted or poisoned messages go: a queue name, or `false` to drop them after logging. */
export type DeadLetterOption = string | false;

/** Options shared by Consumer and Subscriber. */
export interface HandlerOptions {
  /** Parallel handlers per instance (default 1). The instance holds at most twice as many unsettled messages: those in handlers, and acks on their way. */
  concurrency?: number;
  /** `'key'`: messages with the same key run one at a time in publish order; different keys in parallel. */
  ordering?: 'none' | 'key';
  retry?: Partial<Omit<RetryOptions, 'backoff'>> & { backoff?: Partial<BackoffOptions> };
  /** Dead-letter queue (default `<subscription>.dlq`), or `false` to turn dead-lettering off. */
  deadLetter?: DeadLetterOption;
  /** Lease on a delivered message: not settled within it, the message is redelivered. Extended while the handler runs. */
  ackTimeoutMs?: number;
  /** How long `close()` waits for in-flight handlers before releasing their messages for redelivery. */
  closeTimeoutMs?: number;
  /**
   * How a body that arrives without a content type is decoded — as most producers outside
   * brokerkit send (kcat, redis-cli, services in other languages). `'application/json'` parses it;
   * anything else hands the handler its bytes. Default: the topic definition's, else JSON when the
   * topic has a schema, else bytes.
   */
  defaultContentType?: string;
  /** Aborting it closes the consumer gracefully. */
  signal?: AbortSignal;
  /** Called with errors that happen outside a handler (receive loop, ack failures). */
  onError?: (error: Error) => void;
  /**
   * Hand the handler messages in batches (it is then a `BatchHandler`). `concurrency` then
   * counts batches at once, not messages.
   */
  batch?: BatchOptions;
}

/** How a batch handler's batches are made (`options.batch`). */
export interface BatchOptions {
  /** Most messages in one batch (1–10 000): a batch runs as soon as it holds this many. */
  maxMessages: number;
  /** How long a batch waits, after its first message, for more before it runs (default 100 ms; 0–60 000). */
  maxWaitMs?: number;
}

/**
 * Passed to each batch handler call. Resolving acks every message of the batch but those given
 * to `retry()` or `deadLetter()`; throwing retries every message not so given, each with its own
 * attempt count and backoff (dead-lettered at `maxAttempts`, as a single message).
 */
export interface BatchControl {
  /** Aborted when the consumer is closing and the handler should wrap up. */
  readonly signal: AbortSignal;
  /** Settle one message of the batch as "retry": redeliver after `delayMs` (default: its backoff). Counts as an attempt. */
  retry(message: ReceivedMessage, delayMs?: number): void;
  /** Settle one message of the batch as "poison": dead-letter it at once. */
  deadLetter(message: ReceivedMessage, reason?: string): void;
}

export type BatchHandler<TBody = unknown> = (messages: ReceivedMessage<TBody>[], control: BatchControl) => Promise<void> | void;

/** Options of a consumer with a batch handler. */
export interface BatchHandlerOptions extends HandlerOptions {
  batch: BatchOptions;
}

/** Options of a subscriber with a batch handler. */
export interface BatchSubscriberOptions extends SubscriberOptions {
  batch: BatchOptions;
}

export interface SubscriberOptions extends HandlerOptions {
  /** `false`: receive only what is published while attached, at most once; removed on close. */
  durable?: boolean;
}

/** Passed to each handler call. */
export interface HandlerContext {
  /** Aborted when the consumer is closing and the handler should wrap up. */
  readonly signal: AbortSignal;
  /** Settle as "retry": redeliver after `delayMs` (default: the backoff for this attempt). Counts as an attempt. */
  retry(delayMs?: number): void;
  /** Settle as "poison": dead-letter at once, without further attempts. */
  deadLetter(reason?: string): void;
}

export type Handler<TBody = unknown> = (message: ReceivedMessage<TBody>, context: HandlerContext) => Promise<void> | void;

/** Observes every settled delivery; used by metrics, tests and the conformance suite. */
export interface SettleEvent {
  outcome: 'ack' | 'retry' | 'dead-letter' | 'release';
  message: ReceivedMessage;
  delayMs?: number;
  reason?: DeadLetterReason;
  error?: string;
}
