/** How a backend provides a feature: by the broker itself, by brokerkit on top of it, or not at all. */
export type Provision = 'native' | 'emulated' | 'none';

/** What a backend really guarantees; reported per backend and shown in the guarantee matrix. */
export interface Capabilities {
  /** Ordering of same-key messages: across all instances of a subscription, within one instance, or none. */
  ordering: 'per-key' | 'per-key-per-instance' | 'per-queue' | 'none';
  deadLetter: Provision;
  delayedRetry: Provision;
  /** Whether `attempt` is counted exactly, or approximately (may drift under crashes). */
  attemptCount: 'exact' | 'approximate';
  /** Whether a crash before ack redelivers the message (at-least-once). */
  redeliveryOnCrash: boolean;
  exactlyOnce: boolean;
  /** Whether a subscription can re-read past messages (seek / offset reset). */
  replay: boolean;
  /** Largest encoded body plus headers the backend accepts. */
  maxMessageBytes: number;
  ephemeralSubscriptions: Provision;
  /** Whether a send can be delayed (`delayMs`, `deliverAt`): by the broker, by brokerkit on top of it, or not at all. */
  delayedSend: Provision;
  /** The longest delay a send takes (0 where `delayedSend` is 'none'); a longer one is a ConfigError. */
  maxDelayMs: number;
  /** Whether `broker.backlog()` can ask the broker how many messages a subscription has not settled, and how exactly it counts. */
  backlog: 'exact' | 'approximate' | 'none';
  /** How `broker.deadLetters()` peeks, replays and purges: with a move of the broker's own, or by brokerkit consuming the dead-letter queue. */
  deadLetterReplay: Provision;
  /** Free-form notes: where the backend or its emulator differs from the contract. */
  notes: string[];
}

/** A subscription's backlog as the broker counts it (`broker.backlog()`). */
export interface Backlog {
  /** Messages sent to the subscription and not yet acknowledged, as far as `counts` says. */
  messages: number;
  /** Age of the oldest of them, where the broker tells it. */
  oldestAgeMs?: number;
  /** True where the broker's count is an approximation (SQS: eventually consistent attributes). */
  approximate: boolean;
  /** What the count includes, in the broker's terms ('ready messages of the queue', 'lag + pending entries'). */
  counts: string;
}
