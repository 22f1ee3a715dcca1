import type { Capabilities } from '../contract/capabilities.js';
import type { Driver, DriverLimits, EncodedMessage } from '../contract/driver.js';
import { Header, RESERVED_HEADER_PREFIX, type Headers, type OutgoingMessage, type SendReceipt } from '../contract/message.js';
import { ConfigError, MessageTooLargeError, UnsupportedError } from '../errors/index.js';
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
  driver: Pick<Driver, 'backend' | 'limits' | 'traits'> & { capabilities?: Pick<Capabilities, 'delayedSend' | 'maxDelayMs' | 'notes'> },
  extras: EncodeExtras = {},
): { message: EncodedMessage; sizeBytes: number } {
  const { backend, limits } = driver;
  if (message === null || typeof message !== 'object' || !('body' in message)) {
    throw new ConfigError('message', 'expected an object with a body, e.g. { body: { orderId: 1 } }');
  }
  const { key, id, headers: own } = message;
  if (key !== undefined && typeof key !== 'string') throw new ConfigError('message.key', `expected a string, got ${typeof key}`);
  if (id !== undefined && (typeof id !== 'string' || id === '')) throw new ConfigError('message.id', 'expected a non-empty string');
  const deliverAt = message.delayMs === undefined && message.deliverAt === undefined ? undefined : deliveryTime(message, driver);
  const { bytes, contentType, text } = codec.encode(message.body);
  // Where the broker names messages, one sent without an id needs none of its own; a
  // CloudEvent does, as its `id` attribute is written before the broker has seen it, and so
  // does a delayed one: the broker names it only when it is due, after the receipt.
  const messageId = id ?? (driver.traits.idsFromBroker && !extras.cloudEvent && deliverAt === undefined ? '' : uuidV7());
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
  if (deliverAt !== undefined) encoded.deliverAt = deliverAt;
  const sizeBytes = encodedSizeBytes(encoded);
  if (sizeBytes > limits.maxMessageBytes) throw new MessageTooLargeError(sizeBytes, limits.maxMessageBytes, backend);
  return { message: encoded, sizeBytes };
}

/**
 * When a delayed message is due (epoch ms), or undefined when it is due now. A delay the
 * backend cannot make is refused before anything is sent: none at all (UnsupportedError), or
 * longer than it takes (ConfigError naming the longest) — never shortened in silence.
 */
function deliveryTime(message: OutgoingMessage, driver: { backend: string; capabilities?: Pick<Capabilities, 'delayedSend' | 'maxDelayMs' | 'notes'> }): number | undefined {
  const { delayMs, deliverAt } = message;
  if (delayMs !== undefined && deliverAt !== undefined) throw new ConfigError('message.deliverAt', 'give delayMs or deliverAt, not both');
  if (delayMs !== undefined && !(typeof delayMs === 'number' && Number.isFinite(delayMs) && delayMs >= 0)) {
    throw new ConfigError('message.delayMs', `expected a number of ms ≥ 0, got ${String(delayMs)}`);
  }
  if (deliverAt !== undefined && !(deliverAt instanceof Date && Number.isFinite(deliverAt.getTime()))) throw new ConfigError('message.deliverAt', 'expected a valid Date');
  const now = Date.now();
  const due = delayMs !== undefined ? now + delayMs : (deliverAt as Date).getTime();
  if (due <= now) return undefined;
  const capabilities = driver.capabilities;
  if (!capabilities || capabilities.delayedSend === 'none') {
    const note = capabilities?.notes.find((each) => /^delayed send/.test(each));
    throw new UnsupportedError(`${driver.backend} cannot delay a send${note ? `: ${note}` : ''}`);
  }
  if (due - now > capabilities.maxDelayMs) {
    throw new ConfigError(delayMs !== undefined ? 'message.delayMs' : 'message.deliverAt', `a delay of ${due - now} ms is longer than ${driver.backend} takes (${capabilities.maxDelayMs} ms)`);
  }
  return due;
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

/**
 * Send `messages` to `topic` in order, in as few driver calls as its batch limits allow. Each
 * batch's receipts are pushed to `receipts` once the broker confirmed it, so after a failure
 * they say how many were sent before it.
 */
export async function sendInBatches(
  driver: Pick<Driver, 'send' | 'limits'>,
  topic: string,
  messages: EncodedMessage[],
  receipts: SendReceipt[] = [],
  sizes?: readonly number[],
): Promise<SendReceipt[]> {
  for (const batch of splitIntoBatches(messages, driver.limits, sizes)) receipts.push(...(await driver.send(topic, batch)));
  return receipts;
}
