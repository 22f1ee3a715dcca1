import { Header, asBuffer, type EncodedMessage } from '@brokerkit/core';
import type { ConsumeMessage } from 'amqplib';
import type { Outgoing } from './publisher.js';

/** Headers RabbitMQ adds (dead-lettering history, quorum delivery count); users' own x- headers stay. */
const BROKER_HEADER = /^x-(death|delivery-count|first-death-|last-death-|received-from|original-)/;
/** Headers of ours that live in AMQP properties or carry delivery state, not user data. */
const KEY_HEADER = 'bk-key';
const RETRIES_HEADER = 'bk-retries';
const PUBLISHED_AT_HEADER = 'bk-published-at';

/**
 * brokerkit message → AMQP: id in `messageId`, content type in `contentType`, key in the
 * routing key and a header, publish time in a header (AMQP timestamps are whole seconds).
 * Always persistent and mandatory (the publisher refuses unroutable messages).
 */
export function toAmqp(exchange: string, message: EncodedMessage, state: { retries?: number; publishedAt?: Date } = {}): Outgoing {
  // Built by assignment, not rest/spread: this runs for every message sent.
  const now = Date.now();
  let contentType: string | undefined;
  const amqpHeaders: Record<string, string | number> = {};
  for (const name in message.headers) {
    if (name === Header.contentType) contentType = message.headers[name];
    else amqpHeaders[name] = message.headers[name] as string;
  }
  amqpHeaders[PUBLISHED_AT_HEADER] = state.publishedAt ? state.publishedAt.getTime() : now;
  if (message.key !== undefined) amqpHeaders[KEY_HEADER] = message.key;
  if (state.retries) amqpHeaders[RETRIES_HEADER] = state.retries;
  const options: Outgoing['options'] = { messageId: message.id, headers: amqpHeaders, timestamp: Math.floor(now / 1_000), persistent: true, mandatory: true };
  if (contentType !== undefined) options.contentType = contentType;
  return {
    exchange,
    routingKey: message.key ?? '',
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
  const publishedMs = Number(raw[PUBLISHED_AT_HEADER]) || (typeof properties.timestamp === 'number' ? properties.timestamp * 1_000 : Date.now());
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
