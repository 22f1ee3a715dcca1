import { createRequire } from 'node:module';

/**
 * A faster encoder for kafkajs' record headers, installed in kafkajs' place.
 *
 * kafkajs (2.2) encodes each header of each record through an encoder of its own, which starts
 * with a zero-filled 512-byte buffer held outside V8's heap: 2.0 µs per header, against 2.0 µs
 * for the rest of a 256-byte record. Every message brokerkit sends carries a `content-type`
 * header (the consumer decodes by it), so this was most of what brokerkit's produce cost over
 * bare kafkajs. This encoder writes the same bytes into a buffer of the exact size, and
 * reuses the bytes when a header repeats the value it had in the record before (the content
 * type nearly always does): 0.35 µs for a new value, next to nothing for a repeated one.
 *
 * How it is put in place: kafkajs loads its record encoder when the first record is produced,
 * and the record encoder takes the header encoder from Node's module cache. Replacing the
 * cached module's exports before then makes every kafkajs producer in the process use this
 * one, a user's own included; the bytes are the same, checked against kafkajs' encoder when
 * installed. Where kafkajs is not laid out as 2.2 is, the check fails, or a record was
 * produced before brokerkit connected, kafkajs' own encoder stays and only speed differs.
 */

/** A header as kafkajs' record encoder reads it: the bytes, as `buf` and as `buffer`. */
interface EncodedHeader {
  readonly buf: Buffer;
  readonly buffer: Buffer;
}

type HeaderEncoder = (header: { key: unknown; value: unknown }) => EncodedHeader;

const INSTALLED = Symbol.for('brokerkit.kafkajs-header-encoder');

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

/** Headers the install compares with kafkajs' encoder: short, long (two-byte lengths), non-ASCII, empty. */
const SAMPLES: ReadonlyArray<readonly [string, string]> = [
  ['content-type', 'application/json'],
  ['bk-id', '019ab6c2-3f10-7c3e-9d2a-5b4e1f0a7c11'],
  ['ü-name', 'é'.repeat(300)],
  ['k', ''],
];

let state: boolean | undefined;

/**
 * Put the faster header encoder in kafkajs' place, once per process. Returns whether it is
 * in use: false when kafkajs cannot be found where 2.2 has it, when its bytes would differ,
 * or when kafkajs had already produced a record in this process.
 */
export function installHeaderEncoder(): boolean {
  if (state !== undefined) return state;
  state = false;
  try {
    const require = createRequire(import.meta.url);
    const headerPath = require.resolve('kafkajs/src/protocol/recordBatch/header/v0');
    const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
    const stock = require(headerPath) as HeaderEncoder & { [INSTALLED]?: boolean };
    if (stock[INSTALLED] === true) return (state = true);
    // The record encoder has taken kafkajs' header encoder already: too late to replace it.
    if (require.cache[recordPath] !== undefined) return state;
    const cached = require.cache[headerPath];
    if (cached === undefined || typeof stock !== 'function') return state;
    const replacement = memoizedHeaderEncoder(stock);
    for (const [key, value] of SAMPLES) {
      if (!stock({ key, value }).buffer.equals(replacement({ key, value }).buffer)) return state;
    }
    cached.exports = replacement;
    state = true;
  } catch {
    // kafkajs is laid out differently: its own encoder stays.
  }
  return state;
}
