import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { keyOrderFigures } from './key-order.js';

test('order is judged by when handlers started, whatever order the lines arrived in', () => {
  const handlings = [
    { key: 'a', seq: 1, by: 2, startedAt: 20 },
    { key: 'a', seq: 0, by: 1, startedAt: 10 },
    { key: 'a', seq: 2, by: 2, startedAt: 30 },
  ];
  assert.equal(keyOrderFigures(handlings, []).violations, 0);
});

test('a message started after a later one of its key is a violation; its redelivered duplicate is not', () => {
  const handlings = [
    { key: 'a', seq: 0, by: 1, startedAt: 10 },
    { key: 'a', seq: 2, by: 2, startedAt: 20 },
    { key: 'a', seq: 1, by: 1, startedAt: 30 },
    { key: 'a', seq: 0, by: 2, startedAt: 40 },
    { key: 'b', seq: 0, by: 1, startedAt: 15 },
  ];
  assert.equal(keyOrderFigures(handlings, []).violations, 1);
});

test('handover: from the kill to the first start, elsewhere, of a key the killed process had last', () => {
  const handlings = [
    { key: 'a', seq: 0, by: 1, startedAt: 10 },
    { key: 'b', seq: 0, by: 2, startedAt: 12 },
    { key: 'b', seq: 1, by: 2, startedAt: 105 },
    { key: 'a', seq: 1, by: 2, startedAt: 3_100 },
  ];
  assert.deepEqual(keyOrderFigures(handlings, [{ victim: 1, at: 100 }]).handoverMs, [3_000]);
  assert.deepEqual(keyOrderFigures(handlings, [{ victim: 3, at: 100 }]).handoverMs, []);
});
