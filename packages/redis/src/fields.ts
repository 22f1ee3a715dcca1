import { CONTENT_TYPE_JSON, Header } from '@brokerkit/core';
import { asBuffer, type EncodedMessage } from '@brokerkit/core/driver';

/**
 * How a message is laid out as stream entry fields, readable with `redis-cli XRANGE`:
 * `body` (the encoded body as is), `id`, `key`, and one `h:<name>` field per header.
 * A message sent without an id has no `id` field: its position `<stream>/<entry id>` is its
 * id, unique in the server, and kept through every redelivery (a redelivery is the same
 * entry). An entry with only a `body` field (written by another tool) is a message too, named
 * the same way, with no key or headers.
 */
export const BODY_FIELD = 'body';
const ID_FIELD = 'id';
const KEY_FIELD = 'key';
const HEADER_PREFIX = 'h:';

export function toFields(message: EncodedMessage): (string | Buffer)[] {
  // Text bodies go as strings: ioredis writes an all-string command in one piece, ~1.4× faster.
  const body = message.text ?? asBuffer(message.body);
  const fields: (string | Buffer)[] = [BODY_FIELD, body];
  if (message.id !== '') fields.push(ID_FIELD, message.id);
  if (message.key !== undefined) fields.push(KEY_FIELD, message.key);
  for (const [name, value] of Object.entries(message.headers)) fields.push(`${HEADER_PREFIX}${name}`, value);
  return fields;
}

/** The id of a message that has no `id` field: where it is. */
export const positionOf = (stream: string, entryId: string): string => `${stream}/${entryId}`;

/** Read an entry's flat [field, value, …] list, as returned by ioredis' *Buffer commands. */
export function fromFields(stream: string, entryId: string, raw: Buffer[]): EncodedMessage {
  let body: Uint8Array = EMPTY;
  let id: string | undefined;
  let key: string | undefined;
  const headers: Record<string, string> = {};
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const field = raw[index] as Buffer;
    const value = raw[index + 1] as Buffer;
    // Field names compared as bytes: this runs for every field of every entry read.
    if (sameBytes(field, BODY_BYTES)) body = value;
    else if (sameBytes(field, ID_BYTES)) id = value.toString();
    else if (sameBytes(field, KEY_BYTES)) key = value.toString();
    else if (sameBytes(field, CONTENT_TYPE_BYTES)) headers[Header.contentType] = sameBytes(value, JSON_BYTES) ? CONTENT_TYPE_JSON : value.toString();
    else if (field[0] === PREFIX_FIRST && field[1] === PREFIX_SECOND) headers[field.toString('utf8', 2)] = value.toString();
  }
  return { id: id ?? positionOf(stream, entryId), key, headers, body };
}

/** Byte equality of short field names in plain JavaScript: cheaper than a native call or a string. */
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

const EMPTY = new Uint8Array(0);
const BODY_BYTES = Buffer.from(BODY_FIELD);
const ID_BYTES = Buffer.from(ID_FIELD);
const KEY_BYTES = Buffer.from(KEY_FIELD);
// The header on (nearly) every entry, named without two Buffer#toString calls: each costs
// 3-6 µs on the cold CPU of a paced consumer.
const CONTENT_TYPE_BYTES = Buffer.from(`${HEADER_PREFIX}${Header.contentType}`);
const JSON_BYTES = Buffer.from(CONTENT_TYPE_JSON);
const PREFIX_FIRST = HEADER_PREFIX.charCodeAt(0);
const PREFIX_SECOND = HEADER_PREFIX.charCodeAt(1);

/** A stream entry id is `<milliseconds>-<sequence>`: the time Redis accepted the entry. */
export function publishedAtOf(entryId: string): Date {
  return new Date(parseInt(entryId, 10));
}

/** ioredis returns entries as [id, [field, value, …]] pairs. */
export type RawEntry = [Buffer, Buffer[]];
