import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { uuidV7, uuidV7Time } from './ids.js';

test('uuidV7 makes RFC 9562 version 7 ids that carry the time they were made', () => {
  const at = Date.UTC(2026, 10, 25, 12, 34, 56, 789);
  const id = uuidV7(at);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(uuidV7Time(id), at);
  // The time is the leading 48 bits, big-endian: ids sort by it.
  assert.equal(id.slice(0, 13), `${at.toString(16).padStart(12, '0').slice(0, 8)}-${at.toString(16).padStart(12, '0').slice(8)}`);
});

test('uuidV7 ids are unique, sort by time, and use every variant', () => {
  const ids = Array.from({ length: 20_000 }, (_, index) => uuidV7(1_700_000_000_000 + Math.floor(index / 100)));
  assert.equal(new Set(ids).size, ids.length);
  for (let index = 100; index < ids.length; index += 100) assert.ok((ids[index - 1] as string) < (ids[index] as string), 'a later millisecond sorts after');
  // Random bits, not a constant: all four variant digits turn up, and the random tail differs.
  assert.deepEqual(new Set(ids.map((id) => id[19])), new Set(['8', '9', 'a', 'b']));
  assert.ok(new Set(ids.map((id) => id.slice(24))).size > 19_900);
});

test('uuidV7Time reads nothing from an id that is not a UUIDv7', () => {
  assert.equal(uuidV7Time(randomUUID()), undefined, 'a version 4 UUID');
  assert.equal(uuidV7Time('order-42'), undefined);
  assert.equal(uuidV7Time(''), undefined);
  assert.equal(uuidV7Time(uuidV7(5).replace(/-7/, '-4')), undefined);
  assert.equal(uuidV7Time(`${uuidV7()}x`), undefined);
  const id = uuidV7(5);
  const at = (index: number, char: string): string => `${id.slice(0, index)}${char}${id.slice(index + 1)}`;
  assert.equal(uuidV7Time(at(19, 'c')), undefined, 'variant digit outside 8–b');
  assert.equal(uuidV7Time(at(30, 'g')), undefined, 'a non-hex digit in the random tail');
  assert.equal(uuidV7Time(at(3, 'é')), undefined, 'a non-ASCII character in the time');
  assert.equal(uuidV7Time(at(23, '0')), undefined, 'a dash missing');
});

test('uuidV7Time reads upper-case ids and the whole 48-bit range', () => {
  assert.equal(uuidV7Time(uuidV7(1_764_000_000_123).toUpperCase()), 1_764_000_000_123);
  assert.equal(uuidV7Time(uuidV7(2 ** 48 - 1)), 2 ** 48 - 1);
  assert.equal(uuidV7Time(uuidV7(0)), 0);
});
