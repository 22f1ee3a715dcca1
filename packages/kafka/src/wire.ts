import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import type { EncodedMessage } from '@brokerkit/core';

/**
 * How a message travels as a Kafka record: key as the record key, body as the value bytes
 * (JSON stays readable), headers as record headers plus `bk-id`. Retry copies carry
 * `bk-attempt` (the attempt they will be) and `bk-due` (epoch ms before which they must not
 * run); both are stripped on receive.
 */
export const ID_HEADER = 'bk-id';
export const ATTEMPT_HEADER = 'bk-attempt';
export const DUE_HEADER = 'bk-due';
const INTERNAL = new Set([ID_HEADER, ATTEMPT_HEADER, DUE_HEADER]);

export function toRecord(message: EncodedMessage, extra: Record<string, string> = {}): Message {
  return {
    key: message.key ?? null,
    value: Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength),
    headers: { ...message.headers, ...extra, [ID_HEADER]: message.id },
  };
}

const text = (value: IHeaders[string]): string | undefined => {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
};

export interface Received {
  message: EncodedMessage;
  /** Attempt carried by a retry copy; 1 for an original. */
  attempt: number;
  /** Epoch ms before which a retry copy must not run; 0 for an original. */
  dueAt: number;
}

/** A record from Kafka; one written by another client gets `<topic>/<partition>/<offset>` as its id. */
export function fromRecord(topic: string, partition: number, record: KafkaMessage): Received {
  const raw = record.headers ?? {};
  const headers: Record<string, string> = {};
  for (const name in raw) {
    if (INTERNAL.has(name)) continue;
    const decoded = text(raw[name]);
    if (decoded !== undefined) headers[name] = decoded;
  }
  const value = record.value ?? EMPTY;
  const attempt = raw[ATTEMPT_HEADER];
  const due = raw[DUE_HEADER];
  return {
    message: {
      id: text(raw[ID_HEADER]) ?? `${topic}/${partition}/${record.offset}`,
      key: record.key === null || record.key === undefined ? undefined : record.key.toString('utf8'),
      headers,
      body: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    },
    // Only retry copies carry these: originals skip the parsing.
    attempt: attempt === undefined ? 1 : Math.max(1, Number(text(attempt) ?? 1) || 1),
    dueAt: due === undefined ? 0 : Number(text(due) ?? 0) || 0,
  };
}

const EMPTY = Buffer.alloc(0);
