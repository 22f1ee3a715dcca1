import type { BackoffOptions, BatchOptions, HandlerOptions, RetryOptions, SubscriberOptions } from '../contract/options.js';
import { rejectUnknownKeys, requireNumber } from '../config/options.js';
import { ConfigError } from '../errors/index.js';
import { requireContentType } from '../config/names.js';

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, multiplier: 2, jitter: 0.2 };
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_ACK_TIMEOUT_MS = 30_000;
export const DEFAULT_CLOSE_TIMEOUT_MS = 30_000;
export const DEFAULT_BATCH_WAIT_MS = 100;

/** Handler options with every default filled in and every value checked. */
export interface ResolvedHandlerOptions {
  concurrency: number;
  ordering: 'none' | 'key';
  retry: RetryOptions;
  /** undefined: dead-lettering turned off. */
  deadLetterQueue: string | undefined;
  ackTimeoutMs: number;
  closeTimeoutMs: number;
  durable: boolean;
  /** Given in the options; undefined: the topic's default applies. */
  defaultContentType: string | undefined;
  signal: AbortSignal | undefined;
  onError: (error: Error) => void;
  /** Set for a batch handler: `concurrency` then counts batches. */
  batch: Required<BatchOptions> | undefined;
}

/** Messages an instance takes at once: its handlers' slots (a batch handler's, `maxMessages` each). */
export const messageSlots = (options: Pick<ResolvedHandlerOptions, 'concurrency' | 'batch'>): number => options.concurrency * (options.batch?.maxMessages ?? 1);

const HANDLER_OPTION_NAMES = ['concurrency', 'ordering', 'retry', 'deadLetter', 'ackTimeoutMs', 'closeTimeoutMs', 'defaultContentType', 'signal', 'onError', 'durable', 'batch'];

/** Validate options given in code; every mistake is a ConfigError naming the field. */
export function resolveHandlerOptions(subscription: string, options: SubscriberOptions = {}): ResolvedHandlerOptions {
  rejectUnknownKeys('options', options, HANDLER_OPTION_NAMES);
  const concurrency = requireNumber('options.concurrency', options.concurrency ?? 1, { min: 1, max: 10_000, integer: true });
  const ordering = options.ordering ?? 'none';
  if (ordering !== 'none' && ordering !== 'key') throw new ConfigError('options.ordering', `expected 'none' or 'key', got ${JSON.stringify(ordering)}`);
  const retry = resolveRetry(options.retry);
  const deadLetter = options.deadLetter ?? `${subscription}.dlq`;
  if (deadLetter !== false && (typeof deadLetter !== 'string' || deadLetter === '')) {
    throw new ConfigError('options.deadLetter', 'expected a queue name or false');
  }
  if (deadLetter === subscription) throw new ConfigError('options.deadLetter', 'must differ from the subscription itself');
  const ackTimeoutMs = requireNumber('options.ackTimeoutMs', options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS, { min: 100, max: 12 * 3_600_000, integer: true });
  const closeTimeoutMs = requireNumber('options.closeTimeoutMs', options.closeTimeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS, { min: 0, integer: true });
  const durable = options.durable ?? true;
  if (typeof durable !== 'boolean') throw new ConfigError('options.durable', 'expected true or false');
  const defaultContentType = options.defaultContentType === undefined ? undefined : requireContentType('options.defaultContentType', options.defaultContentType);
  const onError = options.onError ?? ((error: Error) => console.error(`[brokerkit] ${subscription}: ${error.message}`));
  return {
    concurrency,
    ordering,
    retry,
    deadLetterQueue: deadLetter === false ? undefined : deadLetter,
    ackTimeoutMs,
    closeTimeoutMs,
    durable,
    defaultContentType,
    signal: options.signal,
    onError,
    batch: options.batch === undefined ? undefined : resolveBatch(options.batch, concurrency),
  };
}

function resolveBatch(batch: BatchOptions, concurrency: number): Required<BatchOptions> {
  if (batch === null || typeof batch !== 'object') throw new ConfigError('options.batch', 'expected { maxMessages, maxWaitMs? }');
  rejectUnknownKeys('options.batch', batch, ['maxMessages', 'maxWaitMs']);
  const maxMessages = requireNumber('options.batch.maxMessages', batch.maxMessages, { min: 1, max: 10_000, integer: true });
  const maxWaitMs = requireNumber('options.batch.maxWaitMs', batch.maxWaitMs ?? DEFAULT_BATCH_WAIT_MS, { min: 0, max: 60_000, integer: true });
  if (concurrency * maxMessages > 100_000) {
    throw new ConfigError('options.batch.maxMessages', `concurrency × maxMessages is ${concurrency * maxMessages}: an instance would hold more than 100 000 messages`);
  }
  return { maxMessages, maxWaitMs };
}

function resolveRetry(retry: HandlerOptions['retry'] = {}): RetryOptions {
  rejectUnknownKeys('options.retry', retry, ['maxAttempts', 'backoff']);
  const maxAttempts = requireNumber('options.retry.maxAttempts', retry.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, { min: 1, max: 1_000, integer: true });
  const given = retry.backoff ?? {};
  rejectUnknownKeys('options.retry.backoff', given, ['initialMs', 'maxMs', 'multiplier', 'jitter']);
  const backoff = { ...DEFAULT_BACKOFF, ...given };
  requireNumber('options.retry.backoff.initialMs', backoff.initialMs, { min: 0 });
  requireNumber('options.retry.backoff.maxMs', backoff.maxMs, { min: backoff.initialMs });
  requireNumber('options.retry.backoff.multiplier', backoff.multiplier, { min: 1 });
  requireNumber('options.retry.backoff.jitter', backoff.jitter, { min: 0, max: 1 });
  return { maxAttempts, backoff };
}
