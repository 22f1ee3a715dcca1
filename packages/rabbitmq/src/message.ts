import { Header, uuidV7Time } from '@brokerkit/core';
import { asBuffer, type EncodedMessage } from '@brokerkit/core/driver';
import type { ConsumeMessage } from 'amqplib';
import type { Outgoing } from './publisher.js';

/** Headers RabbitMQ adds (dead-lettering history, quorum delivery count); users' own x- headers stay. */
const BROKER_HEADER = /^x-(death|delivery-count|first-death-|last-death-|received-from|original-)/;
/** Headers of ours that live in AMQP properties or carry delivery state, not user data. */
const KEY_HEADER = 'bk-key';
const RETRIES_HEADER = 'bk-retries';
const PUBLISHED_AT_HEADER = 'bk-published-at';

/**
 * How much older than its send a UUIDv7 id may be and still stand for the publish time: one
 * core made for this send is a few milliseconds old at most (the batch was being encoded); a
 * caller's id may be from any time.
 */
export const ID_TIME_SLACK_MS = 20;

/**
 * brokerkit message → AMQP: id in `messageId`, content type in `contentType`, key in the
 * routing key (a keyless message's id, so partitions share keyless messages) and a header, publish time in `timestamp`. AMQP timestamps are whole seconds, so
 * the millisecond travels too: in the id when core made it (a UUIDv7 holds the millisecond it
 * was made, during this send), otherwise in a header. Leaving the header off takes a header
 * table off every message (2–3 µs of amqplib's CPU per message, and the broker's parsing).
 * Always persistent and mandatory (the publisher refuses unroutable messages).
 */
export function toAmqp(exchange: string, message: EncodedMessage, state: { retries?: number; publishedAt?: Date } = {}): Outgoing {
  // Built by assignment, not rest/spread: this runs for every message sent.
  let publishedMs = state.publishedAt ? state.publishedAt.getTime() : Date.now();
  const idMs = uuidV7Time(message.id);
  // A copy keeps its original's time, which may be the id's; a new message takes the id's.
  const timeInId = idMs !== undefined && publishedMs >= idMs && publishedMs - idMs <= (state.publishedAt ? 0 : ID_TIME_SLACK_MS);
  if (timeInId) publishedMs = idMs;
  let contentType: string | undefined;
  let amqpHeaders: Record<string, string | number> | undefined;
  for (const name in message.headers) {
    if (name === Header.contentType) contentType = message.headers[name];
    else (amqpHeaders ??= {})[name] = message.headers[name] as string;
  }
  if (!timeInId) (amqpHeaders ??= {})[PUBLISHED_AT_HEADER] = publishedMs;
  if (message.key !== undefined) (amqpHeaders ??= {})[KEY_HEADER] = message.key;
  if (state.retries) (amqpHeaders ??= {})[RETRIES_HEADER] = state.retries;
  const options: Outgoing['options'] = { messageId: message.id, timestamp: Math.floor(publishedMs / 1_000), persistent: true, mandatory: true };
  if (amqpHeaders !== undefined) options.headers = amqpHeaders;
  if (contentType !== undefined) options.contentType = contentType;
  return {
    exchange,
    // The key routes a message to its partition (key-ordered subscriptions); a keyless one is spread by its id.
    routingKey: message.key ?? message.id,
    content: asBuffer(message.body),
    options,
  };
}

export interface Decoded {
  message: EncodedMessage;
  publishedAt: Date;
  /** Delayed retries this message went through (each one a new copy via a retry queue). */
  retries: number;
  attempt: number;
}

/**
 * AMQP → brokerkit. attempt = 1 + delayed retries + x-delivery-count (the quorum queue's count
 * of earlier deliveries of this copy: crashes and releases). Broker headers (x-…) are dropped;
 * a message from another tool without our headers is attempt 1 with its AMQP message id.
 */
export function fromAmqp(delivery: ConsumeMessage): Decoded {
  const { properties, content, fields } = delivery;
  const raw = (properties.headers ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (BROKER_HEADER.test(name) || name === KEY_HEADER || name === RETRIES_HEADER || name === PUBLISHED_AT_HEADER) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') headers[name] = String(value);
    else if (Buffer.isBuffer(value)) headers[name] = value.toString();
  }
  if (typeof properties.contentType === 'string') headers[Header.contentType] = properties.contentType;
  const retries = Number(raw[RETRIES_HEADER] ?? 0) || 0;
  const earlierDeliveries = Number(raw['x-delivery-count'] ?? 0) || 0;
  const publishedMs = Number(raw[PUBLISHED_AT_HEADER]) || publishedFromProperties(properties);
  const key = typeof raw[KEY_HEADER] === 'string' ? (raw[KEY_HEADER] as string) : undefined;
  return {
    message: {
      id: typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : `${fields.exchange || 'amq.default'}:${fields.deliveryTag}`,
      key,
      headers,
      body: content,
    },
    publishedAt: new Date(publishedMs),
    retries,
    attempt: 1 + retries + earlierDeliveries,
  };
}

/**
 * The publish time of a message without brokerkit's header: the millisecond in its UUIDv7 id
 * when that falls in the second its AMQP timestamp names (what brokerkit writes, and a safe
 * reading of another client's v7 id), else the timestamp's second, else now.
 */
function publishedFromProperties(properties: ConsumeMessage['properties']): number {
  const seconds = typeof properties.timestamp === 'number' ? properties.timestamp : undefined;
  if (seconds === undefined) return Date.now();
  const idMs = typeof properties.messageId === 'string' ? uuidV7Time(properties.messageId) : undefined;
  return idMs !== undefined && Math.floor(idMs / 1_000) === seconds ? idMs : seconds * 1_000;
}
