import { strict as assert } from 'node:assert';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fastRecordDecoder, installDecoder, sameRecord, type BatchContext, type RecordBytes, type RecordDecoder } from './record-decoder.js';

const require = createRequire(import.meta.url);
const decoderPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder');
// kafkajs' own decoder, encoder and byte reader, taken before the install below replaces the decoder.
const stock = require(decoderPath) as RecordDecoder;
const Decoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => RecordBytes & { readVarIntBytes(): Buffer };
const Encoder = require('kafkajs/src/protocol/encoder') as new () => { writeInt8(n: number): unknown; writeVarInt(n: number): unknown; writeVarLong(n: number): unknown; writeVarIntBytes(b: Buffer | string | null): unknown; writeVarIntString(s: string | null): unknown; buffer: Buffer };
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (record: object) => { buffer: Buffer };

/** A record's body as kafkajs' batch decoder hands it to the record decoder. */
const bodyOf = (record: object): Buffer => new Decoder(encodeRecord(record).buffer).readVarIntBytes();
const context = (firstOffset: string, firstTimestamp: string, extra: Partial<BatchContext> = {}): BatchContext => ({ firstOffset, firstTimestamp, magicByte: 2, isControlBatch: false, timestampType: 0, maxTimestamp: firstTimestamp, producerId: '-1', ...extra });

/** Decode `bytes` with both decoders; each one's result, or what it threw. */
function both(decoder: RecordDecoder, bytes: Buffer, batch: BatchContext): { mine: unknown; theirs: unknown; read: [number, number] } {
  const run = (decode: RecordDecoder): [unknown, number] => {
    const reader = new Decoder(bytes);
    try {
      return [decode(reader, batch), reader.offset];
    } catch (error) {
      return [{ threw: (error as Error).message }, -1];
    }
  };
  const [mine, mineRead] = run(decoder);
  const [theirs, theirsRead] = run(stock);
  return { mine, theirs, read: [mineRead, theirsRead] };
}

describe('kafkajs record decoder', () => {
  const decoder = fastRecordDecoder(stock);

  it('gives the records kafkajs gives: keys, values, deltas of one to seven bytes, offsets and timestamps past 2^32, headers', () => {
    const keys = [null, '', 'order-1', 'ключ-𝄞', Buffer.from([0, 255, 128])];
    const values = [null, '', Buffer.alloc(63, 1), Buffer.alloc(64, 2), Buffer.alloc(70_000, 3)];
    const deltas = [0, 1, -1, 63, 64, -65, 8191, 8192, 2 ** 27, -(2 ** 31), 2 ** 40, -(2 ** 47)];
    const headerSets = [{}, { 'bk-content-type': 'application/json' }, { 'bk-content-type': 'application/json', 'bk-id': 'ünïcode', note: 'é'.repeat(300), empty: '' }];
    const batches = [context('0', '1764662400000'), context('9007199254000000', '1764662400000'), context('4294967296', '-1'), context('5', '1764662400000', { timestampType: 1, maxTimestamp: '1764662499999' })];
    let checked = 0;
    for (const key of keys) {
      for (const value of values) {
        for (const [index, headers] of headerSets.entries()) {
          const timestampDelta = deltas[(checked + index) % deltas.length] as number;
          const offsetDelta = (checked * 7919) % 100_000;
          const batch = batches[checked % batches.length] as BatchContext;
          const { mine, theirs, read } = both(decoder, bodyOf({ offsetDelta, timestampDelta, key, value, headers }), batch);
          assert.deepStrictEqual(mine, theirs, `record ${checked}`);
          assert.ok(sameRecord(mine, theirs));
          assert.equal(read[0], read[1], 'both read to the same place');
          checked++;
        }
      }
    }
    assert.equal(checked, keys.length * values.length * headerSets.length);
  });

  it('gathers a repeated header name into an array, as kafkajs does, and keeps a header with no value', () => {
    const encoder = new Encoder();
    encoder.writeInt8(0);
    encoder.writeVarLong(0);
    encoder.writeVarInt(0);
    encoder.writeVarIntBytes(null);
    encoder.writeVarIntBytes(Buffer.from('v'));
    encoder.writeVarInt(4);
    for (const [name, value] of [['a', '1'], ['a', '2'], ['b', null], ['a', '3']] as const) {
      encoder.writeVarIntString(name);
      encoder.writeVarIntBytes(value);
    }
    const { mine, theirs } = both(decoder, encoder.buffer, context('0', '0'));
    assert.deepStrictEqual(mine, theirs);
    const headers = (mine as { headers: Record<string, unknown> }).headers;
    assert.deepStrictEqual(headers, { a: [Buffer.from('1'), Buffer.from('2'), Buffer.from('3')], b: null });
  });

  it("leaves to kafkajs' decoder what it does not take, with kafkajs' result", () => {
    const calls: unknown[] = [];
    const counting = fastRecordDecoder((reader, batch) => {
      calls.push(reader.offset);
      return stock(reader, batch);
    });
    const proto = new Encoder();
    for (const step of [() => proto.writeInt8(0), () => proto.writeVarLong(0), () => proto.writeVarInt(0), () => proto.writeVarIntBytes(null), () => proto.writeVarIntBytes(null), () => proto.writeVarInt(1), () => proto.writeVarIntString('__proto__'), () => proto.writeVarIntBytes('x')]) step();
    const cases: [string, Buffer, BatchContext][] = [
      ['a header named __proto__', proto.buffer, context('0', '0')],
      ['a timestamp delta past 2^48', bodyOf({ offsetDelta: 0, timestampDelta: 2 ** 50, key: null, value: 'v' }), context('0', '1764662400000')],
      ['an offset written with a leading zero', bodyOf({ offsetDelta: 0, timestampDelta: 0, key: null, value: 'v' }), context('007', '0')],
      ['an offset past 2^53', bodyOf({ offsetDelta: 5, timestampDelta: 0, key: null, value: 'v' }), context('9223372036854775000', '0')],
      ['bytes that end early', bodyOf({ offsetDelta: 0, timestampDelta: 0, key: 'key', value: 'value' }).subarray(0, 6), context('0', '0')],
    ];
    for (const [what, bytes, batch] of cases) {
      const before = calls.length;
      const { mine, theirs, read } = both(counting, bytes, batch);
      assert.deepStrictEqual(mine, theirs, what);
      assert.equal(read[0], read[1], `${what}: both read to the same place`);
      assert.equal(calls.length, before + 1, `${what} went to kafkajs' decoder`);
      assert.equal(calls.at(-1), 0, `${what}: kafkajs' decoder read it from its start`);
    }
    const headerValue = (both(counting, proto.buffer, context('0', '0')).mine as { headers: Record<string, unknown> }).headers;
    assert.ok(Object.hasOwn(headerValue, '__proto__'), 'the header is an own field, not the prototype');
  });

  it("is what kafkajs' batch decoder takes once installed", () => {
    assert.equal(installDecoder(), true);
    assert.equal(installDecoder(), true, 'a second install is a no-op');
    const installed = require(decoderPath) as RecordDecoder & { [key: symbol]: unknown };
    assert.notEqual(installed, stock);
    assert.equal(installed[Symbol.for('brokerkit.kafkajs-record-decoder')], true);
    // kafkajs' batch decoder loads after the install, and takes the replacement.
    const batchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as unknown;
    assert.equal(typeof batchDecoder, 'function');
    const bytes = bodyOf({ offsetDelta: 3, timestampDelta: 10, key: 'k', value: 'v', headers: { h: 'x' } });
    assert.deepStrictEqual(installed(new Decoder(bytes), context('100', '1000')), stock(new Decoder(bytes), context('100', '1000')));
  });
});
