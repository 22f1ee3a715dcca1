import { EncodingError, type EncodedMessage } from '@brokerkit/core';

/**
 * Headers travel as Pub/Sub attributes (readable by any client), plus `bk-id` and `bk-key`.
 * Pub/Sub allows 100 attributes, keys up to 256 bytes and values up to 1024 bytes: a header
 * beyond those is refused before sending, naming it.
 */
export const ID_ATTRIBUTE = 'bk-id';
export const KEY_ATTRIBUTE = 'bk-key';
const MAX_ATTRIBUTES = 100;
const MAX_KEY_BYTES = 256;
const MAX_VALUE_BYTES = 1024;

export function toAttributes(message: EncodedMessage): Record<string, string> {
  const attributes: Record<string, string> = { ...message.headers, [ID_ATTRIBUTE]: message.id };
  if (message.key !== undefined) attributes[KEY_ATTRIBUTE] = message.key;
  const names = Object.keys(attributes);
  if (names.length > MAX_ATTRIBUTES) throw new EncodingError(`message ${message.id} has ${names.length} headers with brokerkit's; Pub/Sub allows ${MAX_ATTRIBUTES} attributes`);
  for (const [name, value] of Object.entries(attributes)) {
    if (Buffer.byteLength(name) > MAX_KEY_BYTES) throw new EncodingError(`header name "${name.slice(0, 40)}…" is over Pub/Sub's ${MAX_KEY_BYTES}-byte attribute key limit`);
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new EncodingError(`header "${name}" is ${Buffer.byteLength(value)} bytes; Pub/Sub attribute values hold at most ${MAX_VALUE_BYTES}`);
  }
  return attributes;
}

/** A received message; one published by another client gets its Pub/Sub message id. */
export function fromAttributes(messageId: string, data: Buffer, attributes: Record<string, string> = {}, orderingKey?: string): EncodedMessage {
  const { [ID_ATTRIBUTE]: id, [KEY_ATTRIBUTE]: key, ...headers } = attributes;
  return {
    id: id ?? messageId,
    key: key ?? (orderingKey ? orderingKey : undefined),
    headers,
    body: data,
  };
}
