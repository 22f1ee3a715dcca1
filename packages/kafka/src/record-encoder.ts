import { createRequire } from 'node:module';

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
 * How they are put in place: kafkajs loads its record encoder when the first record is
 * produced (its produce request module requires it), and the record encoder takes the header
 * encoder from Node's module cache. Replacing the cached modules' exports before then makes
 * every kafkajs producer in the process use these, a user's own included. The bytes are the
 * same, checked against kafkajs' encoders when installed; a record this encoder does not take
 * (a Buffer or array header value, a timestamp more than 12 days from the batch's first, a key
 * that is neither string nor Buffer) goes to kafkajs' own. Where kafkajs is not laid out as 2.2
 * is, a check fails, or a record was produced before brokerkit connected, kafkajs' encoders
 * stay and only speed differs.
 */

/** A header as kafkajs' record encoder reads it: the bytes, as `buf` and as `buffer`. */
interface EncodedHeader {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

type HeaderEncoder = (header: { key: unknown; value: unknown }) => EncodedHeader;

const INSTALLED = Symbol.for('brokerkit.kafkajs-header-encoder');
const RECORD_INSTALLED = Symbol.for('brokerkit.kafkajs-record-encoder');

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
  const encoder: HeaderEncoder = (header) => {
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
  return Object.assign(encoder, { [INSTALLED]: true });
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
  const encoder: RecordEncoder = (record) => {
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
  return Object.assign(encoder, { [RECORD_INSTALLED]: true });
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

const installed = { headers: undefined as boolean | undefined, records: undefined as boolean | undefined };

/**
 * Put the faster encoders in kafkajs' place, once per process. Returns whether each is in use:
 * false when kafkajs cannot be found where 2.2 has it, when its bytes would differ, or when
 * kafkajs had already loaded the module that takes it (it produced a record in this process).
 */
export function installEncoders(): { headers: boolean; records: boolean } {
  if (installed.headers === undefined) installed.headers = installHeaderEncoder();
  if (installed.records === undefined) installed.records = installRecordEncoder();
  return { headers: installed.headers, records: installed.records };
}

const require = createRequire(import.meta.url);

function installHeaderEncoder(): boolean {
  try {
    const headerPath = require.resolve('kafkajs/src/protocol/recordBatch/header/v0');
    const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
    const stock = require(headerPath) as HeaderEncoder & { [INSTALLED]?: boolean };
    if (stock[INSTALLED] === true) return true;
    // The record encoder has taken kafkajs' header encoder already: too late to replace it.
    if (require.cache[recordPath] !== undefined) return false;
    const cached = require.cache[headerPath];
    if (cached === undefined || typeof stock !== 'function') return false;
    const replacement = memoizedHeaderEncoder(stock);
    for (const [key, value] of SAMPLES) {
      if (!stock({ key, value }).buffer.equals(replacement({ key, value }).buffer)) return false;
    }
    cached.exports = replacement;
    return true;
  } catch {
    // kafkajs is laid out differently: its own encoder stays.
    return false;
  }
}

function installRecordEncoder(): boolean {
  try {
    const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
    const requestPath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request');
    const headerPath = require.resolve('kafkajs/src/protocol/recordBatch/header/v0');
    // The produce request has taken kafkajs' record encoder already: too late to replace it.
    if (require.cache[requestPath] !== undefined) return (require(recordPath) as { [RECORD_INSTALLED]?: boolean })[RECORD_INSTALLED] === true;
    // Loads kafkajs' record encoder (with the header encoder installed above, when it was).
    const stock = require(recordPath) as RecordEncoder & { [RECORD_INSTALLED]?: boolean };
    if (stock[RECORD_INSTALLED] === true) return true;
    const cached = require.cache[recordPath];
    const headerEncoder = require(headerPath) as HeaderEncoder;
    if (cached === undefined || typeof stock !== 'function' || typeof headerEncoder !== 'function') return false;
    const replacement = fastRecordEncoder(stock, headerEncoder);
    for (const sample of RECORD_SAMPLES) {
      if (!stock(sample).buffer.equals(replacement(sample).buffer)) return false;
    }
    cached.exports = replacement;
    return true;
  } catch {
    return false;
  }
}
