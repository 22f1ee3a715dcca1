import { kafkajsModule, replaceKafkajsModule } from './kafkajs-modules.js';

/**
 * Faster encoders for kafkajs' records and record headers, installed in kafkajs' place.
 *
 * kafkajs (2.2) encodes each record, and each header of each record, through an encoder object
 * of its own that starts with a zero-filled 512-byte buffer held outside V8's heap, and writes
 * the record's timestamp delta as a 64-bit varint through `Long` objects, several per byte. A
 * 256-byte record took 2.2 µs to encode, 4.3 µs with one header (brokerkit's content type,
 * which the consumer decodes by). The header encoder here writes a header's bytes into a
 * buffer of the exact size and reuses them while a name repeats its value (the content type
 * nearly always does). The record encoder writes the whole record the same way, once: the
 * record with its header takes 0.2 µs.
 *
 * They are put in kafkajs' place as kafkajs-modules.ts says, for every kafkajs producer in the
 * process, a user's own included: the bytes are the same, checked against kafkajs' encoders
 * when installed. A record this encoder does not take (a Buffer or array header value, a
 * timestamp more than 12 days from the batch's first, a key that is neither string nor Buffer)
 * goes to kafkajs' own.
 */

/** A header as kafkajs' record encoder reads it: the bytes, as `buf` and as `buffer`. */
interface EncodedHeader {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

type HeaderEncoder = (header: { key: unknown; value: unknown }) => EncodedHeader;

const HEADER_ENCODER = Symbol.for('brokerkit.kafkajs-header-encoder');
const RECORD_ENCODER = Symbol.for('brokerkit.kafkajs-record-encoder');

const zigzag = (n: number): number => ((n << 1) ^ (n >> 31)) >>> 0;

function varIntSize(n: number): number {
  let rest = zigzag(n);
  let size = 1;
  while (rest >= 0x80) {
    rest >>>= 7;
    size++;
  }
  return size;
}

function writeVarInt(buf: Buffer, offset: number, n: number): number {
  let rest = zigzag(n);
  while (rest >= 0x80) {
    buf[offset++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  buf[offset++] = rest;
  return offset;
}

/** Header v0: key and value, each a zigzag varint byte length and UTF-8 bytes. */
export function encodeHeader(key: string, value: string): EncodedHeader {
  const keyBytes = Buffer.byteLength(key, 'utf8');
  const valueBytes = Buffer.byteLength(value, 'utf8');
  // Every byte is written below, so the unzeroed (pooled) allocation is safe.
  const buf = Buffer.allocUnsafe(varIntSize(keyBytes) + keyBytes + varIntSize(valueBytes) + valueBytes);
  let offset = writeVarInt(buf, 0, keyBytes);
  offset += buf.write(key, offset, keyBytes, 'utf8');
  offset = writeVarInt(buf, offset, valueBytes);
  buf.write(value, offset, valueBytes, 'utf8');
  return { buf, buffer: buf };
}

/** Most header names a process uses; past this the memo starts over (a bound, not a tuning). */
const MAX_NAMES = 256;

/**
 * kafkajs' header encoder with string headers encoded here. Each name remembers its last
 * value's bytes: the bytes are only read by the record encoder, so one copy can serve every
 * record that repeats them. Anything else (a Buffer value, a null) goes to kafkajs' encoder.
 */
export function memoizedHeaderEncoder(fallback: HeaderEncoder): HeaderEncoder {
  const last = new Map<string, { value: string; encoded: EncodedHeader }>();
  return (header) => {
    const { key, value } = header;
    if (typeof key !== 'string' || typeof value !== 'string') return fallback(header);
    const memo = last.get(key);
    if (memo !== undefined && memo.value === value) return memo.encoded;
    const encoded = encodeHeader(key, value);
    if (memo !== undefined) {
      memo.value = value;
      memo.encoded = encoded;
    } else {
      if (last.size >= MAX_NAMES) last.clear();
      last.set(key, { value, encoded });
    }
    return encoded;
  };
}

/** A record as kafkajs' produce request hands it to the record encoder. */
export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}

type RecordEncoder = (record: RecordInput) => EncodedHeader;

/** Largest timestamp delta written here: below 2^30 its 64-bit zigzag varint has the bytes of the 32-bit one. */
const MAX_DELTA = 2 ** 30 - 1;

const smallInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= -MAX_DELTA && n <= MAX_DELTA;

/** Byte length of a key or value as kafkajs writes it: -1 for none, undefined for what is left to kafkajs. */
function lengthOf(bytes: unknown): number | undefined {
  if (bytes === null || bytes === undefined) return -1;
  if (typeof bytes === 'string') return Buffer.byteLength(bytes, 'utf8');
  return Buffer.isBuffer(bytes) ? bytes.length : undefined;
}

function writeBytes(buf: Buffer, offset: number, bytes: unknown, length: number): number {
  offset = writeVarInt(buf, offset, length);
  if (length <= 0) return offset;
  return offset + (typeof bytes === 'string' ? buf.write(bytes, offset, length, 'utf8') : (bytes as Buffer).copy(buf, offset));
}

/** Header bytes of the record being encoded: the encoder is synchronous, so one list serves every record (entries past this record's count are stale, unread). */
const scratch: Buffer[] = [];

/**
 * kafkajs' record encoder (record v0: length, attributes, timestamp delta, offset delta, key,
 * value, headers) writing into one buffer of the exact size, with string headers from
 * `headerEncoder`. What it does not take goes to `fallback`, kafkajs' own.
 */
export function fastRecordEncoder(fallback: RecordEncoder, headerEncoder: HeaderEncoder): RecordEncoder {
  return (record) => {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers = {} } = record;
    const keyLength = lengthOf(key);
    const valueLength = lengthOf(value);
    if (keyLength === undefined || valueLength === undefined || !smallInt(offsetDelta) || !smallInt(timestampDelta) || typeof headers !== 'object' || headers === null) return fallback(record);
    let count = 0;
    let headerBytes = 0;
    for (const name of Object.keys(headers)) {
      const headerValue = (headers as Record<string, unknown>)[name];
      if (typeof headerValue !== 'string') return fallback(record);
      // `buffer`: kafkajs' own encoder's `buf` is its whole 512-byte buffer, `buffer` the bytes written.
      const { buffer } = headerEncoder({ key: name, value: headerValue });
      scratch[count++] = buffer;
      headerBytes += buffer.length;
    }
    const body =
      1 + varIntSize(timestampDelta) + varIntSize(offsetDelta) + varIntSize(keyLength) + Math.max(keyLength, 0) + varIntSize(valueLength) + Math.max(valueLength, 0) + varIntSize(count) + headerBytes;
    // Every byte is written below, so the unzeroed (pooled) allocation is safe.
    const buf = Buffer.allocUnsafe(varIntSize(body) + body);
    let offset = writeVarInt(buf, 0, body);
    buf[offset++] = 0; // attributes: none used in a record
    offset = writeVarInt(buf, offset, timestampDelta);
    offset = writeVarInt(buf, offset, offsetDelta);
    offset = writeBytes(buf, offset, key, keyLength);
    offset = writeBytes(buf, offset, value, valueLength);
    offset = writeVarInt(buf, offset, count);
    for (let index = 0; index < count; index++) offset += (scratch[index] as Buffer).copy(buf, offset);
    return { buf, buffer: buf };
  };
}

/** Headers the install compares with kafkajs' encoder: short, long (two-byte lengths), non-ASCII, empty. */
const SAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['content-type', 'application/json'],
  ['bk-id', '019ab6c2-3f10-7c3e-9d2a-5b4e1f0a7c11'],
  ['ü-name', 'é'.repeat(300)],
  ['k', ''],
];

/** Records the install compares with kafkajs' encoder: keys of each kind, a tombstone, deltas of one to five bytes, headers. */
const RECORD_SAMPLES: readonly RecordInput[] = [
  { offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('{"n":1}'), headers: { 'content-type': 'application/json' } },
  { offsetDelta: 300, timestampDelta: 70_000, key: 'ключ', value: Buffer.alloc(200, 7), headers: Object.fromEntries(SAMPLES) },
  { offsetDelta: 1, timestampDelta: -5, key: Buffer.from([0, 255]), value: null },
  { offsetDelta: 2, timestampDelta: MAX_DELTA, key: '', value: 'text value', headers: {} },
];

/**
 * Put the faster encoders in kafkajs' place, once per process (see kafkajs-modules.ts). Returns
 * whether each is in use; where not, kafkajs' own encodes the same bytes more slowly.
 */
export function installEncoders(): { headers: boolean; records: boolean } {
  // The header encoder first: kafkajs' record encoder takes it when it loads.
  const headers = replaceKafkajsModule<HeaderEncoder>({
    module: 'protocol/recordBatch/header/v0',
    takenBy: 'protocol/recordBatch/record/v0',
    mark: HEADER_ENCODER,
    make: memoizedHeaderEncoder,
    check: (stock, replacement) => SAMPLES.every(([key, value]) => stock({ key, value }).buffer.equals(replacement({ key, value }).buffer)),
  });
  const records = replaceKafkajsModule<RecordEncoder>({
    module: 'protocol/recordBatch/record/v0',
    takenBy: 'protocol/requests/produce/v3/request',
    mark: RECORD_ENCODER,
    make: (stock) => fastRecordEncoder(stock, kafkajsModule<HeaderEncoder>('protocol/recordBatch/header/v0')),
    check: (stock, replacement) => RECORD_SAMPLES.every((sample) => stock(sample).buffer.equals(replacement(sample).buffer)),
  });
  return { headers, records };
}
