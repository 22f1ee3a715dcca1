import type { Capabilities } from '@brokerkit/core';

/** RabbitMQ's default max message size (max_message_size) is 128 MiB; we stay well under it. */
export function rabbitCapabilities(maxMessageBytes: number): Capabilities {
  return {
    ordering: 'per-key',
    deadLetter: 'emulated',
    delayedRetry: 'emulated',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: false,
    maxMessageBytes,
    ephemeralSubscriptions: 'native',
    delayedSend: 'emulated',
    deadLetterReplay: 'emulated',
    maxDelayMs: 4_290_000_000,
    backlog: 'exact',
    notes: [
      'delayed send: a queue per delay, rounded up to 3 significant digits (message TTL; dead-lettered into the topic exchange with the message key, when due); at most 49.6 days, the longest TTL',
      'topic = durable topic exchange; subscription = durable quorum queue bound to it; a queue = exchange and queue of the same name',
      'send = persistent message on a confirm channel with mandatory: a broker nack or an unroutable message is a SendError',
      'dead letter = a confirmed publish to the <subscription>.dlq queue, then ack (at least once into the DLQ); a message redelivered past maxAttempts by crashes is dead-lettered before its handler runs',
      'delayed retry = per-delay retry queues (TTL, delays rounded up to 2 significant digits) dead-lettering back: no head-of-line blocking; the retry goes to the back of the queue',
      "ordering 'key' holds across instances: a key-ordered subscription is N partition queues (URL option partitions, default 8, fixed once declared) behind a consistent-hash exchange, each with a single active consumer; instances share the partitions and take over a dead one's at once",
      'a partition handed from one live instance to another returns the messages the first held but had not started; the instances tell each other, so their attempt does not count it (an instance that joined later does)',
      'ackTimeoutMs is not a per-message lease in RabbitMQ: a handler that hangs keeps its message until its connection closes',
      'attempt = 1 + retries (header) + x-delivery-count (crashes and releases)',
      'backlog = ready messages of the queue (of every partition of a key-ordered one), as AMQP queue.declare counts them: not those delivered and unacknowledged, nor those waiting in retry queues; no age of the oldest',
      'ephemeral subscriptions = exclusive, auto-delete, server-named classic queue; retries in-process',
    ],
  };
}
