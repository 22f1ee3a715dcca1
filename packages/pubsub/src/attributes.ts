import { EncodingError } from '@brokerkit/core';
import type { EncodedMessage } from '@brokerkit/core/driver';

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
  // One pass, built by assignment: this runs for every message sent.
  const attributes: Record<string, string> = {};
  let count = 0;
  for (const name in message.headers) {
    attributes[name] = checked(name, message.headers[name] as string);
    count += 1;
  }
  attributes[ID_ATTRIBUTE] = checked(ID_ATTRIBUTE, message.id);
  count += 1;
  if (message.key !== undefined) {
    attributes[KEY_ATTRIBUTE] = checked(KEY_ATTRIBUTE, message.key);
    count += 1;
  }
  if (count > MAX_ATTRIBUTES) throw new EncodingError(`message ${message.id} has ${count} headers with brokerkit's; Pub/Sub allows ${MAX_ATTRIBUTES} attributes`);
  return attributes;
}

/** `value`, once name and value are known to fit. UTF-8 takes at most 3 bytes per UTF-16 unit: short strings need no counting. */
function checked(name: string, value: string): string {
  if (name.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(name) > MAX_KEY_BYTES) throw new EncodingError(`header name "${name.slice(0, 40)}…" is over Pub/Sub's ${MAX_KEY_BYTES}-byte attribute key limit`);
  if (value.length * 3 > MAX_VALUE_BYTES && Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new EncodingError(`header "${name}" is ${Buffer.byteLength(value)} bytes; Pub/Sub attribute values hold at most ${MAX_VALUE_BYTES}`);
  return value;
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
