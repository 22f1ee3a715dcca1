import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { encodeHeader, installHeaderEncoder, memoizedHeaderEncoder } from './header-encoder.js';

const require = createRequire(import.meta.url);
type Encoded = { buf: Buffer; buffer: Buffer };
// kafkajs' own encoder, taken before the install below replaces it in the module cache.
const stock = require('kafkajs/src/protocol/recordBatch/header/v0') as (header: { key: unknown; value: unknown }) => Encoded;

describe('kafkajs header encoder', () => {
  it('writes the bytes kafkajs writes, across one- to three-byte lengths and multi-byte characters', () => {
    const lengths = [0, 1, 63, 64, 65, 127, 128, 8191, 8192, 20_000];
    for (const length of lengths) {
      for (const char of ['a', 'é', '€', '𝄞']) {
        const value = char.repeat(Math.ceil(length / Buffer.byteLength(char)));
        const key = `k-${char.repeat(length % 70)}`;
        assert.ok(encodeHeader(key, value).buffer.equals(stock({ key, value }).buffer), `${key.length}-char key, ${value.length} × ${char}`);
      }
    }
  });

  it('reuses the bytes while a name repeats its value, and encodes a new value anew', () => {
    const encoder = memoizedHeaderEncoder(stock);
    const first = encoder({ key: 'content-type', value: 'application/json' });
    assert.equal(encoder({ key: 'content-type', value: 'application/json' }), first);
    const other = encoder({ key: 'content-type', value: 'text/plain' });
    assert.notEqual(other, first);
    assert.ok(other.buffer.equals(stock({ key: 'content-type', value: 'text/plain' }).buffer));
    // Names keep their own memo: ids in between do not evict the content type.
    encoder({ key: 'bk-id', value: 'a' });
    assert.equal(encoder({ key: 'content-type', value: 'text/plain' }), other);
  });

  it("leaves Buffer and null values to kafkajs' encoder", () => {
    const encoder = memoizedHeaderEncoder(stock);
    for (const value of [Buffer.from([0, 255, 7]), null]) {
      assert.ok(encoder({ key: 'raw', value }).buffer.equals(stock({ key: 'raw', value }).buffer));
    }
  });

  it("is what kafkajs' record encoder uses once installed, and records decode to the headers sent", () => {
    assert.equal(installHeaderEncoder(), true);
    assert.equal(installHeaderEncoder(), true, 'a second install is a no-op');
    assert.notEqual(require('kafkajs/src/protocol/recordBatch/header/v0'), stock, "kafkajs' module now gives the replacement");
    const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => { buffer: Buffer };
    const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => { readVarIntBytes(): Buffer };
    const decodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/decoder') as (decoder: unknown, batch: object) => { headers: Record<string, Buffer> };
    const headers = { 'content-type': 'application/json', 'bk-id': 'ünïcode-id', note: 'é'.repeat(100) };
    for (let i = 0; i < 3; i++) {
      const bytes = Record({ offsetDelta: i, timestampDelta: 0, key: null, value: Buffer.from(`{"n":${i}}`), headers }).buffer;
      // A record is its length, then its body; kafkajs' batch decoder reads it the same way.
      const decoded = decodeRecord(new Decoder(new Decoder(bytes).readVarIntBytes()), { firstOffset: '0', firstTimestamp: '0' });
      assert.deepEqual(Object.fromEntries(Object.entries(decoded.headers).map(([name, value]) => [name, value.toString('utf8')])), headers);
    }
  });
});
