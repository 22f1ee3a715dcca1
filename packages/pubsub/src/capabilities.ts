import type { Capabilities } from '@brokerkit/core';

export function pubsubCapabilities(maxMessageBytes: number): Capabilities {
  return {
    ordering: 'per-key',
    deadLetter: 'native',
    delayedRetry: 'emulated',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: false,
    maxMessageBytes,
    ephemeralSubscriptions: 'emulated',
    delayedSend: 'emulated',
    deadLetterReplay: 'emulated',
    // A message waits in a subscription, which keeps it 7 days from its publish (Pub/Sub's default retention).
    maxDelayMs: 6 * 86_400_000,
    backlog: 'none',
    notes: [
      'dead-letter replay: a dead-letter queue is an ordered subscription, which shows nothing more of a key while one of its messages is unsettled; so what peek, replay and purge leave is published again to the back of the dead-letter queue (then acked), changing its order',
      'delayed send: emulated by core, up to 6 days: Pub/Sub has no delivery delay, so a delayed message waits in <topic>.delayed (a topic and subscription, without an ordering key) with its due time in a header; each process subscribed to the topic runs a mover that holds waiting messages (up to 10 000, each at most 5 minutes before the server hands it out again) and publishes each to the topic when due; due messages wait while no process subscribes',
      'backlog: not told by the Pub/Sub API itself but by Cloud Monitoring (subscription/num_undelivered_messages), which the emulator lacks and brokerkit does not call',
      'topic = topic; subscription = subscription; queue = topic + subscription of one name (created with message ordering on, so either ordering works later)',
      "ordering 'key' = ordering keys on a subscription with message ordering: the server hands out a key's next message only after the previous one is acked, across instances; failures retry in place",
      'handler failures go to <subscription>.dlq with metadata (publish, then ack); a native dead-letter policy (5–100 attempts: max(5, maxAttempts)) catches consumers that crash every time and provides the exact delivery attempt',
      'with maxAttempts over 100 (no native policy) the attempt is counted by the process: approximate after a crash',
      'delayed retry: the library keeps the lease while the retry waits in the process, then nacks (the server redelivers at once); a crash meanwhile returns it after the ack deadline',
      'ack deadline = ackTimeoutMs rounded up to whole seconds, at least 10 s (Pub/Sub’s minimum): a crashed consumer’s messages return after that',
      'ephemeral subscriptions = a uniquely named subscription deleted on close, with a 1-day expiration policy as a safety net',
      'headers = attributes (100 at most, values up to 1024 bytes: longer ones are refused before sending)',
    ],
  };
}
