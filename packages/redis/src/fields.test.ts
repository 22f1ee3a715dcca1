import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { CONTENT_TYPE_JSON, Header } from '@brokerkit/core';
import type { EncodedMessage } from '@brokerkit/core/driver';
import { fromFields, toFields } from './fields.js';

/** What ioredis' *Buffer commands return for an entry XADD wrote with these fields. */
const asRead = (fields: (string | Buffer)[]): Buffer[] => fields.map((field) => Buffer.from(field));

describe('redis entry fields', () => {
  it('read back what they were written from: id, key, body and every header, the content type included', () => {
    const messages: EncodedMessage[] = [
      { id: 'order-1', key: 'customer-7', headers: { [Header.contentType]: CONTENT_TYPE_JSON, 'x-trace': 'abc' }, body: Buffer.from('{"total":1}') },
      { id: 'order-2', key: undefined, headers: { [Header.contentType]: 'text/plain; charset=utf-8' }, body: Buffer.from('hello') },
      { id: 'order-3', key: undefined, headers: { [Header.contentType]: 'application/jsonx', 'bk-content-typo': 'y' }, body: Buffer.from('x') },
      { id: 'order-4', key: undefined, headers: {}, body: Buffer.from([0, 255]) },
    ];
    for (const message of messages) {
      const read = fromFields('orders', '1700000000000-0', asRead(toFields(message)));
      assert.deepEqual({ ...read, body: Buffer.from(read.body) }, { ...message, body: Buffer.from(message.body) });
    }
  });

  it('name an entry without an id field by its stream and entry id', () => {
    const read = fromFields('orders', '1700000000000-3', asRead(['body', 'plain']));
    assert.equal(read.id, 'orders/1700000000000-3');
    assert.deepEqual(read.headers, {});
    assert.equal(Buffer.from(read.body).toString(), 'plain');
  });
});
