import { kafkajsModule, replaceKafkajsModule } from './kafkajs-modules.js';
import { encodeHeader, fastRecordEncoder, type RecordInput } from './record-encoder.js';

/**
 * A faster decoder for kafkajs' fetched records, installed in kafkajs' place (kafkajs-modules.ts).
 *
 * kafkajs (2.2) reads each record's timestamp delta as a 64-bit varint through `Long` objects
 * (two per byte), adds the batch's first timestamp and offset as `Long`s parsed from strings
 * and prints them back, and gathers headers by spreading the headers object once per header.
 * This decoder gives the same record objects (the same fields, strings and Buffer views into
 * the fetched bytes) reading the bytes directly, with plain numbers where the values are safe
 * integers, as every real offset and millisecond timestamp is. A record it does not take (a
 * delta past 2^48, a header named `__proto__` or without a name, bytes that end early) is read
 * again from its start by kafkajs' own decoder, which then does what it always did.
 */

/** The part of kafkajs' Decoder read here: the bytes of one record, and where reading is. */
export interface RecordBytes {
  buffer: Buffer;
  offset: number;
}

/** The batch fields kafkajs hands each record's decoder. */
export interface BatchContext {
  firstOffset?: unknown;
  firstTimestamp?: unknown;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: unknown;
  [field: string]: unknown;
}

export type RecordDecoder = (decoder: RecordBytes, batchContext?: BatchContext) => unknown;

const LOG_APPEND_TIME = 1;
/** Varints of up to 7 bytes hold at most 49 bits: exact as numbers. */
const MAX_VARLONG_BYTES = 7;

/** Thrown inside the decoder where the record is left to kafkajs' own; never seen outside (one object: no stack to capture). */
const NOT_MINE = new Error('left to kafkajs');

/** A batch field (kafkajs passes strings) as an exact number, or NOT_MINE. */
function exact(value: unknown): number {
  const number = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : Number.NaN;
  if (!Number.isSafeInteger(number) || (typeof value === 'string' && String(number) !== value)) throw NOT_MINE;
  return number;
}

/**
 * Reads one record the way kafkajs' decoder does. Its varint arithmetic is kept as kafkajs has
 * it (32-bit shifts), so even a malformed varint reads as kafkajs reads it.
 */
class Reader {
  constructor(
    readonly buffer: Buffer,
    public offset: number,
  ) {}

  private byte(): number {
    if (this.offset >= this.buffer.length) throw NOT_MINE;
    return this.buffer[this.offset++] as number;
  }

  varInt(): number {
    let result = 0;
    let shift = 0;
    let current: number;
    do {
      current = this.byte();
      result += (current & 0x7f) << shift;
      shift += 7;
    } while (current >= 0x80);
    return (result >>> 1) ^ -(result & 1);
  }

  varLong(): number {
    let result = 0;
    let scale = 1;
    let current: number;
    let bytes = 0;
    do {
      if (++bytes > MAX_VARLONG_BYTES) throw NOT_MINE;
      current = this.byte();
      result += (current & 0x7f) * scale;
      scale *= 128;
    } while (current >= 0x80);
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  /** A view of the next `length` bytes (null for -1), as kafkajs' `readVarIntBytes`. */
  bytes(): Buffer | null {
    const length = this.varInt();
    if (length === -1) return null;
    if (length < 0 || this.offset + length > this.buffer.length) throw NOT_MINE;
    const view = this.buffer.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }
}

function decode(reader: Reader, batchContext: BatchContext): unknown {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  if (reader.offset >= reader.buffer.length) throw NOT_MINE;
  const attributes = reader.buffer.readInt8(reader.offset++);
  const timestampDelta = reader.varLong();
  const timestamp = timestampType === LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : sum(exact(firstTimestamp), timestampDelta);
  const offset = sum(exact(firstOffset), reader.varInt());
  const key = reader.bytes();
  const value = reader.bytes();
  const headers: Record<string, Buffer | null | (Buffer | null)[]> = {};
  const count = reader.varInt();
  // -1 is kafkajs' empty array; a count below that makes kafkajs throw, as it will on the fallback.
  if (count < -1) throw NOT_MINE;
  for (let index = 0; index < count; index++) {
    const name = reader.bytes();
    if (name === null) throw NOT_MINE;
    const text = name.toString('utf8');
    if (text === '__proto__') throw NOT_MINE;
    const headerValue = reader.bytes();
    const before = headers[text];
    headers[text] = before === undefined ? headerValue : Array.isArray(before) ? [...before, headerValue] : [before, headerValue];
  }
  return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
}

/** `a + b` as kafkajs prints a Long's sum, for sums that are safe integers. */
function sum(a: number, b: number): string {
  const total = a + b;
  if (!Number.isSafeInteger(total)) throw NOT_MINE;
  return String(total);
}

/** kafkajs' record decoder, reading here what it can and leaving the rest to `fallback`. */
export function fastRecordDecoder(fallback: RecordDecoder): RecordDecoder {
  return (decoder, batchContext = {}) => {
    const start = decoder.offset;
    const reader = new Reader(decoder.buffer, start);
    try {
      const record = decode(reader, batchContext);
      decoder.offset = reader.offset;
      return record;
    } catch (error) {
      if (error !== NOT_MINE) throw error;
      decoder.offset = start;
      return fallback(decoder, batchContext);
    }
  };
}

const RECORD_DECODER = Symbol.for('brokerkit.kafkajs-record-decoder');

type KafkajsDecoder = new (buffer: Buffer) => RecordBytes;

/** brokerkit's record encoder on its own (no kafkajs module loaded): the samples' bytes. */
const sampleEncoder = fastRecordEncoder(
  () => {
    throw new Error('a sample record the encoder does not take');
  },
  ({ key, value }) => encodeHeader(String(key), String(value)),
);

/** A record's body, without the length in front (what kafkajs hands the record decoder). */
const bodyOf = (record: RecordInput): Buffer => {
  const bytes = sampleEncoder(record).buffer;
  let start = 0;
  while ((bytes[start] as number) >= 0x80) start++;
  return bytes.subarray(start + 1);
};

/** Records the install reads with both decoders: keys of each kind, a tombstone, a repeated header, log-append time. */
function samples(): { bytes: Buffer; context: BatchContext }[] {
  const context = (firstOffset: string, firstTimestamp: string, extra: Partial<BatchContext> = {}): BatchContext => ({ firstOffset, firstTimestamp, magicByte: 2, isControlBatch: false, timestampType: 0, maxTimestamp: firstTimestamp, ...extra });
  return [
    { bytes: bodyOf({ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('{"n":1}'), headers: { 'bk-content-type': 'application/json' } }), context: context('0', '1764662400000') },
    { bytes: bodyOf({ offsetDelta: 300, timestampDelta: 70_000, key: 'ключ', value: Buffer.alloc(200, 7), headers: { a: 'é'.repeat(100), b: '' } }), context: context('123456789', '1764662400000') },
    { bytes: bodyOf({ offsetDelta: 1, timestampDelta: -5, key: Buffer.from([0, 255]), value: null }), context: context('7', '-1', { timestampType: 1, maxTimestamp: '1764662400123' }) },
  ];
}

/**
 * Put the faster decoder in kafkajs' place, once per process. False where kafkajs is laid out
 * otherwise, a sample reads differently, or kafkajs fetched a record before brokerkit connected.
 */
export function installDecoder(): boolean {
  return replaceKafkajsModule<RecordDecoder>({
    module: 'protocol/recordBatch/record/v0/decoder',
    takenBy: 'protocol/recordBatch/v0/decoder',
    mark: RECORD_DECODER,
    make: fastRecordDecoder,
    check: (stock, replacement) => {
      const Decoder = kafkajsModule<KafkajsDecoder>('protocol/decoder');
      return samples().every(({ bytes, context }) => sameRecord(stock(new Decoder(bytes), context), replacement(new Decoder(bytes), context)));
    },
  });
}

/** Field by field, Buffers by their bytes: what the install compares. */
export function sameRecord(a: unknown, b: unknown): boolean {
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => key === 'batchContext' ? (a as Record<string, unknown>)[key] === (b as Record<string, unknown>)[key] : sameRecord((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
