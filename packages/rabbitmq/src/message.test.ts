import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Header, uuidV7 } from '@brokerkit/core';
import type { EncodedMessage } from '@brokerkit/core/driver';
import type { ConsumeMessage } from 'amqplib';
import { ID_TIME_SLACK_MS, fromAmqp, toAmqp, type Decoded } from './message.js';
import type { Outgoing } from './publisher.js';

const message = (id: string): EncodedMessage => ({ id, key: undefined, headers: { [Header.contentType]: 'application/json', trace: 't-1' }, body: Buffer.from('{}') });

/** What a consumer gets for a published message: its properties as AMQP carries them. */
function received(outgoing: Outgoing): Decoded {
  const { options } = outgoing;
  const properties = { messageId: options.messageId, timestamp: options.timestamp, contentType: options.contentType, headers: options.headers } as ConsumeMessage['properties'];
  return fromAmqp({ content: outgoing.content, properties, fields: { exchange: outgoing.exchange, deliveryTag: 1 } } as ConsumeMessage);
}

describe('publish time on RabbitMQ', () => {
  it('travels in the id core made for the send, with no header, to the millisecond', (t) => {
    // The clock stands still: a pause between making the id and sending would put the time in a header.
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 25, 12, 0, 0, 345) });
    const id = uuidV7();
    t.mock.timers.tick(ID_TIME_SLACK_MS);
    const outgoing = toAmqp('orders', message(id));
    assert.deepEqual(outgoing.options.headers, { trace: 't-1' }, "the application's header, no publish time");
    assert.equal(outgoing.options.contentType, 'application/json');
    const decoded = received(outgoing);
    assert.equal(decoded.publishedAt.getTime(), Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16));
    assert.equal(outgoing.options.timestamp, Math.floor(decoded.publishedAt.getTime() / 1_000));
    const bare = toAmqp('orders', { id: uuidV7(), key: undefined, headers: { [Header.contentType]: 'application/json' }, body: Buffer.from('{}') });
    assert.equal(bare.options.headers, undefined, 'nothing else to say: no header table');
    t.mock.timers.tick(1);
    assert.equal(typeof toAmqp('orders', message(id)).options.headers?.['bk-published-at'], 'number', `sent more than ${ID_TIME_SLACK_MS} ms after the id was made`);
  });

  it("travels in a header when the id does not hold it: a caller's id, or a UUIDv7 made earlier", () => {
    for (const id of ['order-42', uuidV7(Date.now() - 60_000)]) {
      const before = Date.now();
      const outgoing = toAmqp('orders', message(id));
      const header = outgoing.options.headers?.['bk-published-at'];
      assert.equal(typeof header, 'number', id);
      assert.ok((header as number) >= before && (header as number) <= Date.now(), `${id}: the send's time`);
      const decoded = received(outgoing);
      assert.equal(decoded.publishedAt.getTime(), header);
      assert.deepEqual(decoded.message.headers, { [Header.contentType]: 'application/json', trace: 't-1' }, "the time's header is not handed to the application");
    }
  });

  it("a retry copy keeps the original's time, in the id or in the header as the original had it", (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 10, 25, 12, 0, 0, 345) });
    const inId = received(toAmqp('orders', message(uuidV7())));
    const copy = toAmqp('', inId.message, { retries: 1, publishedAt: inId.publishedAt });
    assert.equal(copy.options.headers?.['bk-published-at'], undefined);
    assert.equal(received(copy).publishedAt.getTime(), inId.publishedAt.getTime());
    assert.equal(received(copy).attempt, 2);

    const older = new Date(Date.now() - 5_000);
    const inHeader = toAmqp('', message(uuidV7(older.getTime() - 3)), { retries: 1, publishedAt: older });
    assert.equal(inHeader.options.headers?.['bk-published-at'], older.getTime(), 'an id 3 ms off the time it keeps: the header says it');
    assert.equal(received(inHeader).publishedAt.getTime(), older.getTime());
  });

  it("reads another client's message by its AMQP timestamp, and its UUIDv7 id only when the two agree", () => {
    const at = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const foreign = (messageId: string, timestamp?: number): Decoded =>
      fromAmqp({ content: Buffer.from('x'), properties: { messageId, timestamp, headers: {} }, fields: { exchange: 'orders', deliveryTag: 7 } } as unknown as ConsumeMessage);
    assert.equal(foreign(uuidV7(at), Math.floor(at / 1_000)).publishedAt.getTime(), at);
    assert.equal(foreign(uuidV7(at - 2_000), Math.floor(at / 1_000)).publishedAt.getTime(), Math.floor(at / 1_000) * 1_000, 'an id from another second');
    assert.equal(foreign('plain-id', Math.floor(at / 1_000)).publishedAt.getTime(), Math.floor(at / 1_000) * 1_000);
    const before = Date.now();
    assert.ok(foreign(uuidV7(at)).publishedAt.getTime() >= before, 'no timestamp: the time it arrived');
  });
});
