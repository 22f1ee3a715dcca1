import type { CloudEventAttributes, CloudEventOptions } from './cloud-event.js';

/** String-valued message metadata, carried natively by each broker (headers, attributes, fields). */
export type Headers = Record<string, string>;

/** A message to send. */
export interface OutgoingMessage<TBody = unknown> {
  /** Encoded by the codec (JSON by default); a `Uint8Array` passes through untouched. */
  body: TBody;
  /** Ordering and partitioning key: messages with the same key keep their publish order where the backend can. */
  key?: string;
  /** String pairs delivered with the message. Names starting with `bk-` are reserved. */
  headers?: Headers;
  /**
   * Stable id; redeliveries and retry and dead-letter copies keep it. When absent, the send's
   * receipt names one: the broker's position where it names messages for good (Kafka
   * `<topic>/<partition>/<offset>`, Redis `<stream>/<entry id>`), a generated UUIDv7 elsewhere.
   */
  id?: string;
  /** Send as a CloudEvent (binary mode; merged over the producer's `cloudEvents` defaults). */
  cloudEvent?: CloudEventOptions;
  /**
   * Deliver no sooner than this many ms after the send (where `capabilities.delayedSend` is
   * not 'none', up to `capabilities.maxDelayMs`). A delayed message enters its topic when due:
   * later messages of its key sent meanwhile go before it.
   */
  delayMs?: number;
  /** Deliver no sooner than this time (instead of `delayMs`); a time past is now. */
  deliverAt?: Date;
}

/** A delivered message, the same shape on every backend. */
export interface ReceivedMessage<TBody = unknown> {
  readonly id: string;
  readonly body: TBody;
  readonly key: string | undefined;
  readonly headers: Readonly<Headers>;
  readonly publishedAt: Date;
  /** 1 on the first delivery, growing by one with each redelivery. */
  readonly attempt: number;
  readonly topic: string;
  readonly subscription: string;
  /** The CloudEvent attributes the message carries (from brokerkit or any other CloudEvents producer). */
  readonly cloudEvent: CloudEventAttributes | undefined;
  /** The broker's own message object: the escape hatch for what the portable API does not cover. */
  readonly native: unknown;
}

/** What the broker returned once it durably accepted a message. */
export interface SendReceipt {
  /** The message id: the one given, else the one it was named by (what handlers see as `message.id`). */
  id: string;
  /** The broker's position or id for it (offset, XADD id, MessageId, …), where it tells one. */
  brokerId?: string;
}

/** Headers brokerkit writes; applications may read but not set them. */
export const RESERVED_HEADER_PREFIX = 'bk-';

export const Header = {
  contentType: 'bk-content-type',
  deadLetterReason: 'bk-dead-letter-reason',
  originalId: 'bk-original-id',
  originalTopic: 'bk-original-topic',
  originalSubscription: 'bk-original-subscription',
  originalPublishedAt: 'bk-original-published-at',
  attempts: 'bk-attempts',
  lastError: 'bk-last-error',
  deadLetteredAt: 'bk-dead-lettered-at',
  /** Set on a message sent back from a dead-letter queue (`broker.deadLetters(…).replay()`): when. */
  replayedAt: 'bk-replayed-at',
} as const;

/** Why a message was dead-lettered. */
export type DeadLetterReason = 'max-attempts' | 'explicit' | 'decode-error' | 'validation-error';
