import type { Driver, DriverLimits, EncodedMessage } from '../contract/driver.js';
import { Header, RESERVED_HEADER_PREFIX, type Headers, type OutgoingMessage } from '../contract/message.js';
import { ConfigError, MessageTooLargeError } from '../errors/index.js';
import type { CloudEventOptions } from '../contract/cloud-event.js';
import { cloudEventHeaders } from '../message/cloud-events.js';
import type { Codec } from '../message/codec.js';
import { uuidV7 } from '../message/ids.js';

/** Metadata the producer adds to a message: trace context, CloudEvent attributes. */
export interface EncodeExtras {
  /** Written after the application's headers (W3C trace context). */
  headers?: Headers;
  /** Resolved CloudEvent attributes: the message goes out as a binary-mode CloudEvent. */
  cloudEvent?: CloudEventOptions;
}

/** Bytes a message takes on the wire, as the size limit counts them: body, key and headers. */
export function encodedSizeBytes(message: EncodedMessage): number {
  // Buffer.byteLength counts UTF-8 bytes without encoding a copy.
  let size = message.body.byteLength + (message.key === undefined ? 0 : Buffer.byteLength(message.key, 'utf8'));
  for (const name in message.headers) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(message.headers[name] as string, 'utf8');
  return size;
}

/**
 * Check and encode one outgoing message; throws before anything is sent. Returns the size it
 * counted too: batching needs it and should not count twice.
 */
export function encodeOutgoing(
  message: OutgoingMessage,
  codec: Codec,
  driver: Pick<Driver, 'backend' | 'limits' | 'traits'>,
  extras: EncodeExtras = {},
): { message: EncodedMessage; sizeBytes: number } {
  const { backend, limits } = driver;
  if (message === null || typeof message !== 'object' || !('body' in message)) {
    throw new ConfigError('message', 'expected an object with a body, e.g. { body: { orderId: 1 } }');
  }
  const { key, id, headers: own } = message;
  if (key !== undefined && typeof key !== 'string') throw new ConfigError('message.key', `expected a string, got ${typeof key}`);
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw new ConfigError('message.id', 'expected a non-empty string');
  const { bytes, contentType, text } = codec.encode(message.body);
  // Where the broker names messages, one sent without an id needs none of its own; a
  // CloudEvent does, as its `id` attribute is written before the broker has seen it.
  const messageId = id ?? (driver.traits.idsFromBroker && !extras.cloudEvent ? '' : uuidV7());
  // Built by assignment, not spreads: this runs once per message sent.
  const headers: Headers = {};
  if (own !== undefined) {
    if (own === null || typeof own !== 'object') throw new ConfigError('message.headers', `expected an object of string values, got ${own === null ? 'null' : typeof own}`);
    for (const name in own) {
      const value = own[name];
      if (typeof value !== 'string') throw new ConfigError(`message.headers.${name}`, `header values must be strings, got ${typeof value}`);
      if (name.startsWith(RESERVED_HEADER_PREFIX)) throw new ConfigError(`message.headers.${name}`, `names starting with "${RESERVED_HEADER_PREFIX}" are reserved for brokerkit`);
      headers[name] = value;
    }
  }
  if (extras.headers !== undefined) for (const name in extras.headers) headers[name] = extras.headers[name] as string;
  if (extras.cloudEvent) Object.assign(headers, cloudEventHeaders(backend, messageId, contentType, extras.cloudEvent));
  headers[Header.contentType] = contentType;
  const encoded: EncodedMessage = text === undefined ? { id: messageId, key, headers, body: bytes } : { id: messageId, key, headers, body: bytes, text };
  const sizeBytes = encodedSizeBytes(encoded);
  if (sizeBytes > limits.maxMessageBytes) throw new MessageTooLargeError(sizeBytes, limits.maxMessageBytes, backend);
  return { message: encoded, sizeBytes };
}

/** Split into batches that respect the driver's count and byte limits, keeping order. `sizes`: each message's size, when already counted. */
export function splitIntoBatches(messages: EncodedMessage[], limits: DriverLimits, sizes?: readonly number[]): EncodedMessage[][] {
  const batches: EncodedMessage[][] = [];
  let current: EncodedMessage[] = [];
  let currentBytes = 0;
  for (const [index, message] of messages.entries()) {
    const size = sizes?.[index] ?? encodedSizeBytes(message);
    if (current.length > 0 && (current.length >= limits.maxBatchMessages || currentBytes + size > limits.maxBatchBytes)) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(message);
    currentBytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
