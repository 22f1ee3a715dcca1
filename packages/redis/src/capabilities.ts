import type { Capabilities } from '@brokerkit/core';

export function redisCapabilities(maxMessageBytes: number): Capabilities {
  return {
    // A key-ordered subscription is partitioned by key, each partition read by one instance at a time.
    ordering: 'per-key',
    deadLetter: 'emulated',
    delayedRetry: 'emulated',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: true,
    maxMessageBytes,
    ephemeralSubscriptions: 'native',
    delayedSend: 'emulated',
    deadLetterReplay: 'emulated',
    maxDelayMs: 365 * 86_400_000,
    backlog: 'exact',
    notes: [
      'delayed send: kept in a sorted set beside the stream ({topic}.delayed, by due time; the message itself in {topic}.delayed.messages) and moved into the stream when due, atomically, by a script every subscriber of the topic runs each 100 ms; while no subscriber runs, due messages wait there',
      'topic = stream, subscription = consumer group (a queue is a group of the same name, reading from the start of the stream)',
      "ordering 'key' holds across instances: the subscription is partitioned (N streams by key hash, routed by a Lua script), each partition read by the one instance holding its lease; a crashed instance's partitions move after its lease lapses (3 s), its pending entries first",
      'dead-lettering: XADD to <subscription>.dlq and XACK in one MULTI transaction',
      'delayed retry: the entry stays pending, kept by its consumer until due; if that consumer dies it is reclaimed after ackTimeoutMs, possibly before the backoff ends',
      'crashed consumers: their pending entries are claimed (XAUTOCLAIM) once idle longer than ackTimeoutMs',
      'ephemeral subscriptions: XREAD from the last entry at attach time, at most once, nothing kept in Redis',
      'backlog: the group\'s lag (unread entries) plus its pending entries (XINFO GROUPS); counted one by one, up to 100 000, where Redis cannot tell the lag',
      'persistence is the server configuration (RDB/AOF); an acknowledged XADD without AOF fsync can be lost if Redis itself crashes',
    ],
  };
}
