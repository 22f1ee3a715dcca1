import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { DecodingError, EncodingError } from '../errors/index.js';
import { CONTENT_TYPE_BINARY, CONTENT_TYPE_JSON, jsonCodec } from './codec.js';

describe('jsonCodec', () => {
  it('round-trips JSON values', () => {
    for (const body of [{ a: [1, 'é', null] }, 'text', 0, false, null]) {
      const { bytes, contentType } = jsonCodec.encode(body);
      assert.equal(contentType, CONTENT_TYPE_JSON);
      assert.deepEqual(jsonCodec.decode(bytes, contentType), body);
    }
  });

  it('passes bytes through untouched', () => {
    const body = Uint8Array.from([0, 255, 10]);
    const { bytes, contentType } = jsonCodec.encode(body);
    assert.equal(contentType, CONTENT_TYPE_BINARY);
    assert.equal(bytes, body);
    assert.equal(jsonCodec.decode(bytes, contentType), bytes);
  });

  it('rejects bodies JSON cannot hold with an EncodingError', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const body of [circular, { n: 1n }, undefined, () => 1]) {
      assert.throws(() => jsonCodec.encode(body), EncodingError);
    }
  });

  it('reports invalid JSON or UTF-8 on receive as a DecodingError', () => {
    assert.throws(() => jsonCodec.decode(new TextEncoder().encode('{nope'), CONTENT_TYPE_JSON), DecodingError);
    assert.throws(() => jsonCodec.decode(Uint8Array.from([0xff, 0xfe]), CONTENT_TYPE_JSON), DecodingError);
  });

  it('hands over bytes without a known content type as they are', () => {
    const bytes = new TextEncoder().encode('{"from":"another producer"}');
    assert.equal(jsonCodec.decode(bytes, undefined), bytes);
  });
});
