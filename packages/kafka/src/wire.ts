import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { asBuffer, type EncodedMessage } from '@brokerkit/core/driver';

/**
 * How a message travels as a Kafka record: key as the record key, body as the value bytes
 * (JSON stays readable), headers as record headers. A message sent without an id carries
 * none: its position (`<topic>/<partition>/<offset>`) is its id, as for a record any other
 * client wrote. One with an id of its own (given by the caller, a CloudEvent's, or a retry or
 * dead-letter copy keeping the original's) carries it as `bk-id`. Retry copies carry
 * `bk-attempt` (the attempt they will be) and `bk-due` (epoch ms before which they must not
 * run); both are stripped on receive.
 */
export const ID_HEADER = 'bk-id';
export const ATTEMPT_HEADER = 'bk-attempt';
export const DUE_HEADER = 'bk-due';

/** Where the partitioner put a record: set on its first try, read on retries and for its receipt. */
export const PARTITION = Symbol('brokerkit.partition');

/**
 * A record as brokerkit hands it to kafkajs, with the partition it went to once chosen.
 * `offsetDelta` and `timestampDelta` are kafkajs' to set: its produce request copies each
 * record as `{ ...record, offsetDelta, timestampDelta }`, and in Node 20 a spread followed by
 * fields the source lacks builds a new hidden class per copy, 1.5–2 µs a record; with the
 * fields already there the copy takes ~25 ns. Their values here are never read.
 */
export type PlacedRecord = Message & { offsetDelta?: number; timestampDelta?: number; [PARTITION]?: number };

export function toRecord(message: EncodedMessage, extra?: Record<string, string>): PlacedRecord {
  // Built by assignment: this runs once per record sent.
  const headers: Record<string, string> = {};
  for (const name in message.headers) headers[name] = message.headers[name] as string;
  if (extra !== undefined) for (const name in extra) headers[name] = extra[name] as string;
  if (message.id !== '') headers[ID_HEADER] = message.id;
  return { key: message.key ?? null, value: asBuffer(message.body), headers, offsetDelta: 0, timestampDelta: 0, [PARTITION]: undefined };
}

const text = (value: IHeaders[string]): string | undefined => {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
};

/** What a retry copy carries besides the message; the caller's object, filled per record (no object per record). */
export interface CopyInfo {
  /** Attempt carried by a retry copy; 1 for an original. */
  attempt: number;
  /** Epoch ms before which a retry copy must not run; 0 for an original. */
  dueAt: number;
}

/** The id of a record that carries no `bk-id`: where it is. A send's receipt names it the same way. */
export const positionOf = (topic: string, partition: number, offset: string | number | bigint): string => `${topic}/${partition}/${offset}`;

/**
 * A record from Kafka; one written by another client gets `<topic>/<partition>/<offset>` as
 * its id. A retry copy's attempt and due time go into `copy`.
 */
export function fromRecord(topic: string, partition: number, record: KafkaMessage, copy: CopyInfo): EncodedMessage {
  const raw = record.headers;
  const headers: Record<string, string> = {};
  let id: string | undefined;
  copy.attempt = 1;
  copy.dueAt = 0;
  if (raw !== undefined) {
    for (const name in raw) {
      const decoded = text(raw[name]);
      if (decoded === undefined) continue;
      if (name === ID_HEADER) id = decoded;
      // Only retry copies carry these two.
      else if (name === ATTEMPT_HEADER) copy.attempt = Math.max(1, Number(decoded) || 1);
      else if (name === DUE_HEADER) copy.dueAt = Number(decoded) || 0;
      else headers[name] = decoded;
    }
  }
  return {
    id: id ?? positionOf(topic, partition, record.offset),
    key: record.key === null || record.key === undefined ? undefined : record.key.toString('utf8'),
    headers,
    body: record.value ?? EMPTY,
  };
}

const EMPTY = Buffer.alloc(0);
