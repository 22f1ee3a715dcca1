import type { Capabilities } from '@brokerkit/core';

export function sqsCapabilities(maxMessageBytes: number): Capabilities {
  return {
    ordering: 'per-key',
    deadLetter: 'emulated',
    delayedRetry: 'native',
    attemptCount: 'approximate',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: false,
    maxMessageBytes,
    ephemeralSubscriptions: 'emulated',
    delayedSend: 'emulated',
    deadLetterReplay: 'emulated',
    // A message waits in an SQS queue, whose retention (4 days unless set otherwise) it must not outlast.
    maxDelayMs: 95 * 3_600_000,
    backlog: 'approximate',
    notes: [
      'dead-letter replay: brokerkit consumes the dead-letter queue and sends each message back through the topic; SQS message move tasks are not used: they move every message back to the source queue, with no filter, no limit and no bk-replayed-at mark',
      'delayed send: emulated by core, up to 95 hours: SNS delivers at once and SQS DelaySeconds applies to a whole queue, so a delayed message waits in <topic>.delayed (an SQS queue behind an SNS topic) with its due time in a header; each process subscribed to the topic runs a mover that sets a waiting message\'s visibility to the time left (at most 12 h a step) and publishes it to the topic when due; due messages wait while no process subscribes; whole seconds, so up to 1 s late plus a receive',
      'backlog = ApproximateNumberOfMessages + …NotVisible + …Delayed of the subscription\'s queue (and of its standard twin while a FIFO one adopts it): approximate, as SQS says; no age of the oldest (a CloudWatch metric)',
      'topic = SNS topic; subscription and queue = SQS queue subscribed with raw delivery; sends always go through SNS',
      "ordering 'key' = FIFO topic and FIFO queue (MessageGroupId = key, deduplication id = message id: a re-send of one id within 5 minutes is dropped); FIFO throughput is lower on AWS; a key-ordered subscription declared within 2 s of its process first creating or finding the FIFO topic returns once those 2 s have passed, so producers in other processes know of the FIFO topic by then",
      'without ordering, standard queues: best-effort order, and AWS may deliver a message twice',
      'delayed retry = ChangeMessageVisibility: delays and leases round up to whole seconds',
      'dead letter: handler failures go to <subscription>.dlq with metadata (send, then delete); a consumer that crashes every time is dead-lettered by core at attempt maxAttempts + 1 (with metadata), and behind it by a native redrive policy (maxReceiveCount = maxAttempts + 1, standard queues) where the consumer dies before core can act',
      'attempt = ApproximateReceiveCount',
      'ephemeral subscriptions = a temporary queue subscribed to the topic, deleted on close (left behind if the process crashes)',
      'body: JSON as text, anything else base64; headers packed into one attribute (SQS allows 10, none empty)',
    ],
  };
}
