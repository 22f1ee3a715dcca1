import { CONTENT_TYPE_JSON, Header } from '@brokerkit/core';
import type { EncodedMessage } from '@brokerkit/core/driver';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

/**
 * How a message travels as an SQS/SNS message: the body as text (JSON stays readable to other
 * clients; anything else is base64, since SQS bodies must be text and non-empty), and at most
 * five attributes — `bk-id`, `bk-key`, `bk-content-type`, `bk-encoding` and `bk-headers` (all
 * user headers as one JSON attribute: SQS allows ten attributes, none with an empty value).
 */
const ID = 'bk-id';
const KEY = 'bk-key';
const CONTENT_TYPE = 'bk-content-type';
const ENCODING = 'bk-encoding';
const HEADERS = 'bk-headers';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface WireMessage {
  body: string;
  attributes: Record<string, MessageAttributeValue>;
}

const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

export function toWire(message: EncodedMessage): WireMessage {
  const { [Header.contentType]: contentType, ...headers } = message.headers;
  const attributes: Record<string, MessageAttributeValue> = { [ID]: text(message.id) };
  if (message.key !== undefined && message.key !== '') attributes[KEY] = text(message.key);
  if (contentType) attributes[CONTENT_TYPE] = text(contentType);
  if (Object.keys(headers).length > 0) attributes[HEADERS] = text(JSON.stringify(headers));
  let body: string | undefined;
  if (contentType === CONTENT_TYPE_JSON && message.body.byteLength > 0) {
    try {
      body = utf8.decode(message.body);
    } catch {
      body = undefined;
    }
  }
  if (body === undefined) {
    if (message.body.byteLength === 0) {
      attributes[ENCODING] = text('empty');
      body = '-';
    } else {
      attributes[ENCODING] = text('base64');
      body = Buffer.from(message.body).toString('base64');
    }
  }
  return { body, attributes };
}

/** A message from SQS; one sent by another client (no bk- attributes) has its SQS id and a text body. */
export function fromWire(messageId: string, body: string, attributes: Record<string, MessageAttributeValue> = {}): EncodedMessage {
  const value = (name: string): string | undefined => attributes[name]?.StringValue;
  let headers: Record<string, string> = {};
  const packed = value(HEADERS);
  if (packed) {
    try {
      headers = JSON.parse(packed) as Record<string, string>;
    } catch {
      headers = {};
    }
  } else {
    // Attributes set by another client arrive as headers.
    for (const [name, attribute] of Object.entries(attributes)) {
      if (!name.startsWith('bk-') && attribute.StringValue !== undefined) headers[name] = attribute.StringValue;
    }
  }
  const contentType = value(CONTENT_TYPE);
  if (contentType) headers[Header.contentType] = contentType;
  const encoding = value(ENCODING);
  const bytes = encoding === 'empty' ? new Uint8Array(0) : encoding === 'base64' ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8');
  return { id: value(ID) ?? messageId, key: value(KEY), headers, body: bytes };
}
