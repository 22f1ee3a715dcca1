import type { Capabilities } from '@brokerkit/core';
import { MAX_DELAY_MS } from './delay-stages.js';

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
    delayedSend: 'emulated',
    deadLetterReplay: 'emulated',
    maxDelayMs: MAX_DELAY_MS,
    backlog: 'exact',
    notes: [
      'dead-letter replay: a log cannot leave one record unread, so what peek, replay and purge leave goes back through the dead-letter group\'s retry topic: afterwards it comes after what was not yet read',
      "delayed send: emulated by core, up to 7 days: Kafka has no delivery delay, so a delayed message waits in the topic <topic>.delayed with its due time in a header; each process subscribed to the topic runs a mover (consumer group <topic>.delayed) that passes what is not due through stage topics <topic>.delayed.<ms>ms, each holding a record a fixed time (1 s × 4^k up to 74.6 h, so each is read in due order), holds the last second in the process, and sends the message to the topic when due; 11 topics per topic with delayed sends, kept a week past their wait; a subscriber attached before its topic's first delayed send starts its mover within 10 s; due messages wait while no process subscribes",
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
