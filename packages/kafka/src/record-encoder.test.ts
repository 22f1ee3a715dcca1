import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { encodeHeader, fastRecordEncoder, installEncoders, memoizedHeaderEncoder, type RecordInput } from './record-encoder.js';

const require = createRequire(import.meta.url);
type Encoded = { buf: Buffer; buffer: Buffer };
type HeaderEncoder = (header: { key: unknown; value: unknown }) => Encoded;
type RecordEncoder = (record: RecordInput) => Encoded;
// kafkajs' own encoders, taken before the install below replaces them in the module cache.
const headerPath = require.resolve('kafkajs/src/protocol/recordBatch/header/v0');
const recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0');
const stockHeader = require(headerPath) as HeaderEncoder;
const stockRecord = require(recordPath) as RecordEncoder;
// Loading the record encoder here would make the install find it too late (as after a first
// produce): this copy, holding kafkajs' own header encoder, is kept; the cache forgets it.
delete require.cache[recordPath];

const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => { readVarIntBytes(): Buffer };
type DecodedRecord = { key: Buffer | null; value: Buffer | null; offset: string; timestamp: string; headers: Record<string, Buffer | Buffer[]> };
const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (decoder: unknown, batch: object) => DecodedRecord;

/** A record is its length, then its body; kafkajs' batch decoder reads it the same way. */
const decode = (bytes: Buffer): DecodedRecord => decodeRecord(new Decoder(new Decoder(bytes).readVarIntBytes()), { firstOffset: '0', firstTimestamp: '0' });

describe('kafkajs header encoder', () => {
  it('writes the bytes kafkajs writes, across one- to three-byte lengths and multi-byte characters', () => {
    const lengths = [0, 1, 63, 64, 65, 127, 128, 8191, 8192, 20_000];
    for (const length of lengths) {
      for (const char of ['a', 'é', '€', '𝄞']) {
        const value = char.repeat(Math.ceil(length / Buffer.byteLength(char)));
        const key = `k-${char.repeat(length % 70)}`;
        assert.ok(encodeHeader(key, value).buffer.equals(stockHeader({ key, value }).buffer), `${key.length}-char key, ${value.length} × ${char}`);
      }
    }
  });

  it('reuses the bytes while a name repeats its value, and encodes a new value anew', () => {
    const encoder = memoizedHeaderEncoder(stockHeader);
    const first = encoder({ key: 'content-type', value: 'application/json' });
    assert.equal(encoder({ key: 'content-type', value: 'application/json' }), first);
    const other = encoder({ key: 'content-type', value: 'text/plain' });
    assert.notEqual(other, first);
    assert.ok(other.buffer.equals(stockHeader({ key: 'content-type', value: 'text/plain' }).buffer));
    // Names keep their own memo: ids in between do not evict the content type.
    encoder({ key: 'bk-id', value: 'a' });
    assert.equal(encoder({ key: 'content-type', value: 'text/plain' }), other);
  });

  it("leaves Buffer and null values to kafkajs' encoder", () => {
    const encoder = memoizedHeaderEncoder(stockHeader);
    for (const value of [Buffer.from([0, 255, 7]), null]) {
      assert.ok(encoder({ key: 'raw', value }).buffer.equals(stockHeader({ key: 'raw', value }).buffer));
    }
  });
});

describe('kafkajs record encoder', () => {
  const encoder = fastRecordEncoder(stockRecord, memoizedHeaderEncoder(stockHeader));

  it('writes the bytes kafkajs writes, across key kinds, value sizes, deltas and header counts', () => {
    const keys = [undefined, null, '', 'order-1', 'ключ-𝄞', Buffer.alloc(0), Buffer.from([0, 255, 128])];
    const values = [null, '', 'plain text', Buffer.alloc(0), Buffer.alloc(63, 1), Buffer.alloc(64, 2), Buffer.alloc(8192, 3), Buffer.alloc(70_000, 4)];
    // Deltas at each varint length's edges: 1 byte up to 63, 2 up to 8 191, …, and negatives.
    const deltas = [0, 1, -1, 63, 64, -64, -65, 8191, 8192, 1_048_575, 1_048_576, 2 ** 30 - 1, -(2 ** 30 - 1)];
    const headerSets = [undefined, {}, { 'content-type': 'application/json' }, { 'content-type': 'application/json', 'bk-id': 'ünïcode', note: 'é'.repeat(300) }];
    let checked = 0;
    for (const key of keys) {
      for (const value of values) {
        for (const [index, headers] of headerSets.entries()) {
          const timestampDelta = deltas[(checked + index) % deltas.length] as number;
          const offsetDelta = deltas[(checked * 7 + 3) % deltas.length] as number;
          const record: RecordInput = { offsetDelta, timestampDelta, key, value, ...(headers === undefined ? {} : { headers }) };
          assert.ok(encoder(record).buffer.equals(stockRecord(record).buffer), `record ${checked}: ${JSON.stringify({ key, timestampDelta, offsetDelta, headers })}`);
          checked++;
        }
      }
    }
    assert.equal(checked, keys.length * values.length * headerSets.length);
  });

  it("leaves what it does not take to kafkajs' encoder, with kafkajs' bytes", () => {
    const stockCalls: RecordInput[] = [];
    const counting: RecordEncoder = (record) => {
      stockCalls.push(record);
      return stockRecord(record);
    };
    const withFallback = fastRecordEncoder(counting, memoizedHeaderEncoder(stockHeader));
    const others: RecordInput[] = [
      { value: Buffer.from('x'), headers: { raw: Buffer.from([1, 2]) } as unknown as Record<string, string> },
      { value: Buffer.from('x'), headers: { many: ['a', 'b'] } as unknown as Record<string, string> },
      { value: Buffer.from('x'), timestampDelta: 2 ** 31 },
      { value: Buffer.from('x'), offsetDelta: 1.5 },
    ];
    for (const record of others) assert.ok(withFallback(record).buffer.equals(stockRecord(record).buffer));
    // kafkajs refuses a number key; so does the replacement, with kafkajs' own error.
    const numberKey = { key: 42, value: Buffer.from('x') };
    assert.throws(() => withFallback(numberKey), (error: Error) => assert.throws(() => stockRecord(numberKey), { message: error.message }) === undefined);
    assert.equal(stockCalls.length, others.length + 1, 'each went to the fallback');
    withFallback({ value: Buffer.from('x'), headers: { 'content-type': 'a' } });
    assert.equal(stockCalls.length, others.length + 1, 'a plain record is encoded here');
  });

  it('decodes, through kafkajs, to the key, value and headers sent', () => {
    const headers = { 'content-type': 'application/json', 'bk-id': 'ünïcode-id', note: 'é'.repeat(100) };
    for (let i = 0; i < 3; i++) {
      const decoded = decode(encoder({ offsetDelta: i, timestampDelta: 1000 * i, key: `k-${i}`, value: Buffer.from(`{"n":${i}}`), headers }).buffer);
      assert.equal(decoded.key?.toString('utf8'), `k-${i}`);
      assert.equal(decoded.value?.toString('utf8'), `{"n":${i}}`);
      assert.equal(decoded.offset, String(i));
      assert.equal(decoded.timestamp, String(1000 * i));
      assert.deepEqual(Object.fromEntries(Object.entries(decoded.headers).map(([name, value]) => [name, value.toString()])), headers);
    }
  });
});

describe('installEncoders', () => {
  it("puts both encoders in kafkajs' place once, and kafkajs' produce request then uses them", () => {
    assert.deepEqual(installEncoders(), { headers: true, records: true });
    assert.deepEqual(installEncoders(), { headers: true, records: true }, 'a second install is a no-op');
    assert.notEqual(require.cache[headerPath]?.exports, stockHeader, "kafkajs' header module now gives the replacement");
    assert.notEqual(require.cache[recordPath]?.exports, stockRecord, "kafkajs' record module now gives the replacement");
    // The produce request loads after the install, so it takes the replacement record encoder.
    const installed = require('kafkajs/src/protocol/recordBatch/record/v0') as RecordEncoder;
    const record = { offsetDelta: 2, timestampDelta: 5, key: 'k', value: Buffer.from('v'), headers: { 'content-type': 'application/json' } };
    assert.ok(installed(record).buffer.equals(stockRecord(record).buffer));
    assert.equal(decode(installed(record).buffer).headers['content-type']?.toString(), 'application/json');
  });
});
