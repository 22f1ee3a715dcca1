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
    delayedSend: 'none',
    deadLetterReplay: 'emulated',
    maxDelayMs: 0,
    backlog: 'approximate',
    notes: [
      'dead-letter replay: brokerkit consumes the dead-letter queue and sends each message back through the topic; SQS message move tasks are not used: they move every message back to the source queue, with no filter, no limit and no bk-replayed-at mark',
      'delayed send: not supported yet: SNS delivers at once, and SQS DelaySeconds (at most 15 min) applies to a queue, not to one message published through a topic',
      'backlog = ApproximateNumberOfMessages + …NotVisible + …Delayed of the subscription\'s queue (and of its standard twin while a FIFO one adopts it): approximate, as SQS says; no age of the oldest (a CloudWatch metric)',
      'topic = SNS topic; subscription and queue = SQS queue subscribed with raw delivery; sends always go through SNS',
      "ordering 'key' = FIFO topic and FIFO queue (MessageGroupId = key, deduplication id = message id: a re-send of one id within 5 minutes is dropped); FIFO throughput is lower on AWS; a key-ordered subscription declared within 2 s of its process first creating or finding the FIFO topic returns once those 2 s have passed, so producers in other processes know of the FIFO topic by then",
      'without ordering, standard queues: best-effort order, and AWS may deliver a message twice',
      'delayed retry = ChangeMessageVisibility: delays and leases round up to whole seconds',
      'dead letter: handler failures go to <subscription>.dlq with metadata (send, then delete); a native redrive policy (maxReceiveCount = maxAttempts) catches consumers that crash every time (standard queues)',
      'attempt = ApproximateReceiveCount',
      'ephemeral subscriptions = a temporary queue subscribed to the topic, deleted on close (left behind if the process crashes)',
      'body: JSON as text, anything else base64; headers packed into one attribute (SQS allows 10, none empty)',
    ],
  };
}
