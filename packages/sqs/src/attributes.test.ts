import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import { fromWire, toWire } from './attributes.js';
import { awsName } from './names.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('SQS wire format', () => {
  it('packs any number of headers into one attribute and restores them', () => {
    const headers = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`h${i}`, `v${i}`]));
    const wire = toWire({ id: 'm1', key: 'k', headers: { ...headers, 'bk-content-type': 'application/json' }, body: bytes('{"a":1}') });
    assert.ok(Object.keys(wire.attributes).length <= 10);
    assert.equal(wire.body, '{"a":1}', 'JSON stays readable text');
    const back = fromWire('sqs-id', wire.body, wire.attributes);
    assert.equal(back.id, 'm1');
    assert.equal(back.key, 'k');
    assert.deepEqual(back.headers, { ...headers, 'bk-content-type': 'application/json' });
    assert.deepEqual(Buffer.from(back.body).toString(), '{"a":1}');
  });

  it('carries binary and empty bodies, which SQS cannot hold as they are', () => {
    const binary = new Uint8Array([0, 255, 1, 128]);
    const wire = toWire({ id: 'b', key: undefined, headers: {}, body: binary });
    assert.equal(wire.attributes['bk-encoding']?.StringValue, 'base64');
    assert.deepEqual([...fromWire('x', wire.body, wire.attributes).body], [0, 255, 1, 128]);
    const empty = toWire({ id: 'e', key: undefined, headers: {}, body: new Uint8Array(0) });
    assert.ok(empty.body.length > 0, 'SQS rejects an empty body');
    assert.equal(fromWire('x', empty.body, empty.attributes).body.byteLength, 0);
  });

  it('a foreign message: its id is the SQS id, its attributes are headers', () => {
    const attributes: Record<string, MessageAttributeValue> = { origin: { DataType: 'String', StringValue: 'cli' } };
    const message = fromWire('sqs-42', 'hello', attributes);
    assert.equal(message.id, 'sqs-42');
    assert.deepEqual(message.headers, { origin: 'cli' });
    assert.equal(Buffer.from(message.body).toString(), 'hello');
  });

  it('names: forbidden characters replaced, long names stay distinct, FIFO suffix kept', () => {
    assert.equal(awsName('orders.dlq', false), 'orders_dlq');
    assert.equal(awsName('orders', true), 'orders.fifo');
    const long = 'x'.repeat(120);
    assert.equal(awsName(long, true).length, 80);
    assert.notEqual(awsName(`${long}a`, false), awsName(`${long}b`, false));
  });
});
