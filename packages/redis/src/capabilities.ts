import type { Capabilities } from '@brokerkit/core';

export function redisCapabilities(maxMessageBytes: number): Capabilities {
  return {
    // A stream is one ordered log, but a group hands entries of one key to any consumer.
    ordering: 'per-key-per-instance',
    deadLetter: 'emulated',
    delayedRetry: 'emulated',
    attemptCount: 'exact',
    redeliveryOnCrash: true,
    exactlyOnce: false,
    replay: true,
    maxMessageBytes,
    ephemeralSubscriptions: 'native',
    notes: [
      'topic = stream, subscription = consumer group (a queue is a group of the same name, reading from the start of the stream)',
      "ordering 'key' holds within one instance (per-key serial execution); instances of one group may interleave a key",
      'dead-lettering: XADD to <subscription>.dlq and XACK in one MULTI transaction',
      'delayed retry: the entry stays pending, kept by its consumer until due; if that consumer dies it is reclaimed after ackTimeoutMs, possibly before the backoff ends',
      'crashed consumers: their pending entries are claimed (XAUTOCLAIM) once idle longer than ackTimeoutMs',
      'ephemeral subscriptions: XREAD from the last entry at attach time, at most once, nothing kept in Redis',
      'persistence is the server configuration (RDB/AOF); an acknowledged XADD without AOF fsync can be lost if Redis itself crashes',
    ],
  };
}
