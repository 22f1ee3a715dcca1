import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { EncodingError } from '@brokerkit/core';
import type { EncodedMessage } from '@brokerkit/core/driver';
import { fromAttributes, toAttributes } from './attributes.js';

const message = (headers: Record<string, string>, key?: string): EncodedMessage => ({ id: 'm-1', key, headers, body: Buffer.from('{}') });

describe('Pub/Sub attributes', () => {
  it('carry the headers, the id and the key, and come back as they were', () => {
    const attributes = toAttributes(message({ 'bk-content-type': 'application/json', trace: 't' }, 'customer-7'));
    assert.deepEqual(attributes, { 'bk-content-type': 'application/json', trace: 't', 'bk-id': 'm-1', 'bk-key': 'customer-7' });
    assert.deepEqual(fromAttributes('server-1', Buffer.from('{}'), attributes), message({ 'bk-content-type': 'application/json', trace: 't' }, 'customer-7'));
    assert.equal(fromAttributes('server-1', Buffer.from('x'), {}).id, 'server-1', "another client's message: Pub/Sub's id");
  });

  it('refuse more than 100 attributes, brokerkit’s counted', () => {
    const headers = Object.fromEntries(Array.from({ length: 99 }, (_, index) => [`h${index}`, 'v']));
    assert.equal(Object.keys(toAttributes(message(headers))).length, 100);
    assert.throws(() => toAttributes(message(headers, 'k')), (error: unknown) => error instanceof EncodingError && /101 headers/.test(error.message));
  });

  it('refuse a name over 256 bytes and a value over 1024 bytes, counting UTF-8 bytes, not characters', () => {
    assert.doesNotThrow(() => toAttributes(message({ ['n'.repeat(256)]: 'é'.repeat(512) })), 'exactly at both limits');
    assert.throws(() => toAttributes(message({ ['n'.repeat(257)]: 'v' })), /attribute key limit/);
    assert.throws(() => toAttributes(message({ ['é'.repeat(129)]: 'v' })), /attribute key limit/, '129 characters, 258 bytes');
    assert.throws(() => toAttributes(message({ note: 'é'.repeat(513) })), /header "note" is 1026 bytes/, '513 characters, 1026 bytes');
    assert.throws(() => toAttributes(message({}, '€'.repeat(342))), /header "bk-key" is 1026 bytes/, 'the key too');
    assert.throws(() => toAttributes({ ...message({}), id: 'i'.repeat(1025) }), /header "bk-id" is 1025 bytes/, "and a caller's id");
  });
});
