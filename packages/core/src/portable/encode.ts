import { randomUUID } from 'node:crypto';
import type { EncodedMessage, DriverLimits } from '../contract/driver.js';
import { Header, RESERVED_HEADER_PREFIX, type Headers, type OutgoingMessage } from '../contract/message.js';
import { ConfigError, MessageTooLargeError } from '../errors/index.js';
import { cloudEventHeaders, type CloudEventOptions } from './cloud-events.js';
import type { Codec } from './codec.js';

/** Metadata the producer adds to a message: trace context, CloudEvent attributes. */
export interface EncodeExtras {
  /** Written after the application's headers (W3C trace context). */
  headers?: Headers;
  /** Resolved CloudEvent attributes: the message goes out as a binary-mode CloudEvent. */
  cloudEvent?: CloudEventOptions;
}

/** Sizes already counted by encodeOutgoing, so batching does not count them again. */
const counted = new WeakMap<EncodedMessage, number>();

/** Bytes a message takes on the wire, as the size limit counts them: body, key and headers. */
export function encodedSizeBytes(message: EncodedMessage): number {
  const known = counted.get(message);
  if (known !== undefined) return known;
  // Buffer.byteLength counts UTF-8 bytes without encoding a copy.
  let size = message.body.byteLength + Buffer.byteLength(message.key ?? '', 'utf8');
  for (const name in message.headers) size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(message.headers[name] as string, 'utf8');
  return size;
}

/** Check and encode one outgoing message; throws before anything is sent. */
export function encodeOutgoing(message: OutgoingMessage, codec: Codec, limits: DriverLimits, backend: string, extras: EncodeExtras = {}): EncodedMessage {
  if (message === null || typeof message !== 'object' || !('body' in message)) {
    throw new ConfigError('message', 'expected an object with a body, e.g. { body: { orderId: 1 } }');
  }
  const { key, id, headers = {} } = message;
  if (key !== undefined && typeof key !== 'string') throw new ConfigError('message.key', `expected a string, got ${typeof key}`);
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw new ConfigError('message.id', 'expected a non-empty string');
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new ConfigError(`message.headers.${name}`, `header values must be strings, got ${typeof value}`);
    if (name.startsWith(RESERVED_HEADER_PREFIX)) throw new ConfigError(`message.headers.${name}`, `names starting with "${RESERVED_HEADER_PREFIX}" are reserved for brokerkit`);
  }
  const { bytes, contentType, text } = codec.encode(message.body);
  const messageId = id ?? randomUUID();
  const encoded: EncodedMessage = {
    id: messageId,
    key,
    headers: {
      ...headers,
      ...extras.headers,
      ...(extras.cloudEvent ? cloudEventHeaders(backend, messageId, contentType, extras.cloudEvent) : {}),
      [Header.contentType]: contentType,
    },
    body: bytes,
    ...(text !== undefined ? { text } : {}),
  };
  const size = encodedSizeBytes(encoded);
  if (size > limits.maxMessageBytes) throw new MessageTooLargeError(size, limits.maxMessageBytes, backend);
  counted.set(encoded, size);
  return encoded;
}

/** Split into batches that respect the driver's count and byte limits, keeping order. */
export function splitIntoBatches(messages: EncodedMessage[], limits: DriverLimits): EncodedMessage[][] {
  const batches: EncodedMessage[][] = [];
  let current: EncodedMessage[] = [];
  let currentBytes = 0;
  for (const message of messages) {
    const size = encodedSizeBytes(message);
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
