import type { Capabilities } from '@brokerkit/core';

export function natsCapabilities(maxMessageBytes: number, maxAgeMs: number, maxDelayMs: number, schedules: boolean): Capabilities {
  const days = Math.round((maxAgeMs / 86_400_000) * 10) / 10;
  return {
    ordering: 'per-key-per-instance',
    deadLetter: 'emulated',
    delayedRetry: 'native',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: true,
    maxMessageBytes,
    ephemeralSubscriptions: 'native',
    delayedSend: schedules ? 'native' : 'emulated',
    maxDelayMs,
    backlog: 'exact',
    deadLetterReplay: 'emulated',
    notes: [
      `topic = a JetStream stream of its own (subject = the topic's name, file storage, messages kept ${days} days: maxAgeMs); subscription and queue = a durable pull consumer on it, filtered to that subject`,
      "per-key order within one instance only: JetStream hands a consumer's messages to whichever puller asks; core runs one message of a key at a time in this instance, and retries in place with ordering 'key'",
      'ack = a double ack (the server confirms it); lease = the consumer\'s ack wait (ackTimeoutMs), extended with in-progress acks while a handler runs; attempt = the delivery count (exact)',
      'delayed retry = a nak with a delay: the server redelivers it no sooner, without blocking others',
      'dead letter = <subscription>.dlq, a stream of its own: sent there (confirmed), then acked; the server never gives a message up itself (max_deliver -1)',
      'a queue (ensureQueue, and a DLQ) keeps what was sent before any consumer (deliver all); a new subscription starts at the end of the stream (deliver new)',
      'ephemeral subscriptions = an ephemeral consumer from the end of the stream, deleted on close (by the server a minute after a crash)',
      'message id and key travel as headers bk-id and bk-key; a message another client published is named <stream>/<sequence>',
      `size limit = the server's max_payload less 1 KiB for header framing`,
      schedules
        ? "delayed send: native: a message schedule (server 2.12+, `Nats-Schedule: @at <time>`) on a subject of its own, <topic>.bk-schedule.<id>, in the topic's stream; the server publishes it to the topic when due, whether or not anyone subscribes"
        : "delayed send: emulated by core (server before 2.12, without message schedules): a delayed message waits in <topic>.delayed, whose waiting messages the topic's subscribers nak with the time left and publish when due",
      "backlog = the consumer's pending plus unacknowledged messages; no age of the oldest",
    ],
  };
}
