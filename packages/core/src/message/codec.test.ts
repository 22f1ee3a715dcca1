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

  it('refuses malformed UTF-8 inside valid JSON (it would decode with U+FFFD in its place), and keeps a real U+FFFD', () => {
    const quoted = (...inner: number[]) => Uint8Array.from([0x22, 0x61, ...inner, 0x22]); // "a…"
    for (const bad of [[0xc3], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf4, 0x90, 0x80, 0x80]]) {
      assert.throws(() => jsonCodec.decode(quoted(...bad), CONTENT_TYPE_JSON), DecodingError, `bytes ${bad.map((b) => b.toString(16)).join(' ')}`);
    }
    assert.equal(jsonCodec.decode(quoted(0xef, 0xbf, 0xbd), CONTENT_TYPE_JSON), 'a\uFFFD');
    assert.equal(jsonCodec.decode(new TextEncoder().encode('"\uFFFD and é"'), CONTENT_TYPE_JSON), '\uFFFD and é');
  });

  it('hands over bytes without a known content type as they are', () => {
    const bytes = new TextEncoder().encode('{"from":"another producer"}');
    assert.equal(jsonCodec.decode(bytes, undefined), bytes);
  });
});
