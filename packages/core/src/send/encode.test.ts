import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ConfigError, MessageTooLargeError, UnsupportedError } from '../errors/index.js';
import { jsonCodec } from '../message/codec.js';
import { encodeOutgoing, encodedSizeBytes, splitIntoBatches } from './encode.js';

const limits = { maxMessageBytes: 100, maxBatchMessages: 3, maxBatchBytes: 150 };
const driver = { backend: 'test', limits, traits: { retryKeepsKeyOrder: false, idsFromBroker: false } };
const naming = { backend: 'test', limits: { ...limits, maxMessageBytes: 1_000 }, traits: { retryKeepsKeyOrder: false, idsFromBroker: true } };

describe('delayed sends', () => {
  const delaying = { ...naming, capabilities: { delayedSend: 'emulated' as const, maxDelayMs: 60_000, notes: [] } };
  const refusing = { ...naming, capabilities: { delayedSend: 'none' as const, maxDelayMs: 0, notes: ['delayed send: not here, because'] } };

  it('carries when the message is due, and gives it an id of its own (the broker names it only when due)', () => {
    const before = Date.now();
    const { message } = encodeOutgoing({ body: 1, delayMs: 5_000 }, jsonCodec, delaying);
    assert.ok((message.deliverAt ?? 0) >= before + 5_000 && (message.deliverAt ?? 0) <= Date.now() + 5_000);
    assert.match(message.id, /^[0-9a-f-]{36}$/);
    const at = new Date(Date.now() + 30_000);
    assert.equal(encodeOutgoing({ body: 1, deliverAt: at }, jsonCodec, delaying).message.deliverAt, at.getTime());
  });

  it('sends at once a delay of 0 or a time past, on any backend', () => {
    assert.equal(encodeOutgoing({ body: 1, delayMs: 0 }, jsonCodec, refusing).message.deliverAt, undefined);
    assert.equal(encodeOutgoing({ body: 1, deliverAt: new Date(Date.now() - 1_000) }, jsonCodec, refusing).message.deliverAt, undefined);
  });

  it('refuses what it cannot do, naming it: no delays at all, too long a delay, bad values, both ways at once', () => {
    assert.throws(() => encodeOutgoing({ body: 1, delayMs: 10 }, jsonCodec, refusing), (e: unknown) => e instanceof UnsupportedError && /cannot delay a send: delayed send: not here, because/.test(e.message));
    assert.throws(() => encodeOutgoing({ body: 1, delayMs: 60_001 }, jsonCodec, delaying), (e: unknown) => e instanceof ConfigError && e.field === 'message.delayMs' && /longer than test takes \(60000 ms\)/.test(e.message));
    assert.throws(() => encodeOutgoing({ body: 1, delayMs: -1 }, jsonCodec, delaying), (e: unknown) => e instanceof ConfigError && e.field === 'message.delayMs');
    assert.throws(() => encodeOutgoing({ body: 1, delayMs: Number.NaN }, jsonCodec, delaying), (e: unknown) => e instanceof ConfigError && e.field === 'message.delayMs');
    assert.throws(() => encodeOutgoing({ body: 1, deliverAt: new Date('nope') }, jsonCodec, delaying), (e: unknown) => e instanceof ConfigError && e.field === 'message.deliverAt');
    assert.throws(() => encodeOutgoing({ body: 1, delayMs: 5, deliverAt: new Date() }, jsonCodec, delaying), (e: unknown) => e instanceof ConfigError && /not both/.test(e.message));
  });
});

describe('encodeOutgoing', () => {
  it('generates an id and records the content type', () => {
    const { message: encoded, sizeBytes } = encodeOutgoing({ body: { a: 1 } }, jsonCodec, driver);
    assert.match(encoded.id, /^[0-9a-f-]{36}$/);
    assert.equal(encoded.headers['bk-content-type'], 'application/json');
    assert.equal(sizeBytes, encodedSizeBytes(encoded));
  });

  it('leaves the id to a broker that names messages, unless the caller or a CloudEvent needs one first', () => {
    assert.equal(encodeOutgoing({ body: 1 }, jsonCodec, naming).message.id, '');
    assert.equal(encodeOutgoing({ body: 1, id: 'mine' }, jsonCodec, naming).message.id, 'mine');
    const event = encodeOutgoing({ body: 1 }, jsonCodec, naming, { cloudEvent: { type: 't', source: '/s' } }).message;
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.equal(event.headers['ce-id'], event.id);
  });

  it('counts body, key and headers against the size limit and names the sizes', () => {
    const fits = encodeOutgoing({ body: new Uint8Array(100 - 15 - 24), headers: {} }, jsonCodec, driver).message;
    assert.equal(encodedSizeBytes(fits), 100);
    assert.throws(
      () => encodeOutgoing({ body: new Uint8Array(62) }, jsonCodec, driver),
      (error: unknown) => error instanceof MessageTooLargeError && error.sizeBytes === 101 && error.maxBytes === 100 && /101 bytes.*100 bytes/.test(error.message),
    );
    assert.throws(() => encodeOutgoing({ body: new Uint8Array(1), key: 'k'.repeat(90) }, jsonCodec, driver), MessageTooLargeError);
  });

  it('rejects malformed messages naming the field', () => {
    const field = (message: unknown) => {
      try {
        encodeOutgoing(message as never, jsonCodec, driver);
      } catch (error) {
        assert.ok(error instanceof ConfigError);
        return error.field;
      }
      assert.fail('accepted');
    };
    assert.equal(field('just a string'), 'message');
    assert.equal(field({ body: 1, key: 5 }), 'message.key');
    assert.equal(field({ body: 1, id: '' }), 'message.id');
    assert.equal(field({ body: 1, headers: { n: 1 } }), 'message.headers.n');
    assert.equal(field({ body: 1, headers: { 'bk-attempts': '9' } }), 'message.headers.bk-attempts');
  });
});

describe('splitIntoBatches', () => {
  const message = (size: number) => ({ id: 'x', key: undefined, headers: {}, body: new Uint8Array(size) });

  it('respects the count limit, keeping order', () => {
    const messages = Array.from({ length: 7 }, (_, i) => ({ ...message(1), id: String(i) }));
    const batches = splitIntoBatches(messages, limits);
    assert.deepEqual(batches.map((b) => b.map((m) => m.id).join('')), ['012', '345', '6']);
  });

  it('respects the byte limit and still sends a lone large message', () => {
    const batches = splitIntoBatches([message(80), message(80), message(10), message(200)], limits);
    assert.deepEqual(batches.map((b) => b.length), [1, 2, 1]);
  });
});
