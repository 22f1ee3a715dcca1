import type { Capabilities } from '@brokerkit/core';

export function kafkaCapabilities(maxMessageBytes: number, partitions: number): Capabilities {
  return {
    ordering: 'per-key',
    deadLetter: 'emulated',
    delayedRetry: 'emulated',
    attemptCount: 'approximate',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: true,
    maxMessageBytes,
    ephemeralSubscriptions: 'emulated',
    delayedSend: 'none',
    deadLetterReplay: 'emulated',
    maxDelayMs: 0,
    backlog: 'exact',
    notes: [
      'dead-letter replay: a log cannot leave one record unread, so what peek, replay and purge leave goes back through the dead-letter group\'s retry topic: afterwards it comes after what was not yet read',
      'delayed send: not supported yet: Kafka has no delivery delay (a delay topic is not built)',
      `topic = Kafka topic (created with ${partitions} partitions when missing); subscription = consumer group; key = record key → partition`,
      "per-key order holds across instances: a key lives in one partition, owned by one member; with ordering 'key' a failed message is retried in place (its key waits), never reordered",
      "ordering 'none': a failed message is retried through <subscription>.retry (a copy with its attempt and due time; the partition pauses until due), so it blocks nothing; a retry may wait behind a longer one in its retry partition, never run early",
      'commits advance only to the end of the contiguous finished prefix of each partition: a crash re-delivers what was unfinished, and finished messages behind it (counted as duplicates)',
      'attempt = 1 + retries (header) + deliveries by owners that crashed (recorded in the commit metadata): approximate',
      'dead letter = <subscription>.dlq topic with metadata headers; the original offset is committed after the DLQ write is acknowledged',
      'ackTimeoutMs is not a lease: Kafka has none per message; a hanging handler holds its partition\'s commits, and a crashed member\'s partitions move after the session timeout (or at once when it leaves the group)',
      'commits are sent as soon as the finished prefix moves, without the ack waiting for the reply; close() waits for the last',
      'ephemeral subscriptions = a unique consumer group starting at the end of the log, deleted on close; retries wait in the process',
      "backlog = the group's lag: records past its committed offsets (from the earliest retained one where it has none) on the topic and its retry topic; handled records not yet committed count until the commit; no age of the oldest",
      "a new durable subscription (a group without commits) starts at the earliest retained record, so it also reads what was sent before it existed; replay = resetting a group's offsets",
    ],
  };
}
