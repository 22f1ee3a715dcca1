import type { EncodedMessage } from '../contract/driver.js';
import { Header, type DeadLetterReason, type Headers } from '../contract/message.js';

export interface DeadLetterFacts {
  topic: string;
  subscription: string;
  attempts: number;
  reason: DeadLetterReason;
  lastError: string | undefined;
  publishedAt: Date;
}

const MAX_ERROR_CHARS = 1_000;

/** The original message with headers recording where it came from, how often it was tried and why it failed. */
export function withDeadLetterHeaders(message: EncodedMessage, facts: DeadLetterFacts, now: Date = new Date()): EncodedMessage {
  const headers: Headers = {
    ...message.headers,
    [Header.deadLetterReason]: facts.reason,
    [Header.originalId]: message.id,
    [Header.originalTopic]: facts.topic,
    [Header.originalSubscription]: facts.subscription,
    [Header.originalPublishedAt]: facts.publishedAt.toISOString(),
    [Header.attempts]: String(facts.attempts),
    [Header.deadLetteredAt]: now.toISOString(),
  };
  if (facts.lastError !== undefined) headers[Header.lastError] = facts.lastError.slice(0, MAX_ERROR_CHARS);
  return { ...message, headers };
}

/** Headers `withDeadLetterHeaders` writes (and a replay's mark): what a replay drops. */
const DEAD_LETTER_HEADERS: ReadonlySet<string> = new Set([
  Header.deadLetterReason,
  Header.originalId,
  Header.originalTopic,
  Header.originalSubscription,
  Header.originalPublishedAt,
  Header.attempts,
  Header.lastError,
  Header.deadLetteredAt,
  Header.replayedAt,
]);

/** A copy of `headers` without the dead-letter metadata: what the message carried before it was dead-lettered. */
export function withoutDeadLetterHeaders(headers: Headers): Headers {
  const kept: Headers = {};
  for (const [name, value] of Object.entries(headers)) if (!DEAD_LETTER_HEADERS.has(name)) kept[name] = value;
  return kept;
}

/**
 * What to do after a failed attempt: retry after the backoff until the attempts are spent,
 * then dead-letter — or, with dead-lettering turned off, discard it and report it through
 * `onError`, so a poison message never loops forever and never vanishes unreported.
 */
export function decideAfterFailure(attempt: number, maxAttempts: number, deadLetterEnabled: boolean): 'retry' | 'dead-letter' | 'discard' {
  if (attempt < maxAttempts) return 'retry';
  return deadLetterEnabled ? 'dead-letter' : 'discard';
}
