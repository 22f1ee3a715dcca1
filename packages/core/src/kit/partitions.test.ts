import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPartitioned, ownerOf, partitionCountRefused } from './partitions.js';

test('ownerOf spreads partitions evenly over the members, the same whatever order they are listed in', () => {
  const counts = new Map<string, number>();
  for (let partition = 0; partition < 8; partition += 1) {
    const owner = ownerOf(partition, ['c', 'a', 'b']) as string;
    assert.equal(owner, ownerOf(partition, ['b', 'c', 'a']));
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  assert.deepEqual([...counts.values()].sort(), [2, 3, 3]);
  assert.equal(ownerOf(0, []), undefined);
});

test('only durable key-ordered subscriptions are partitioned', () => {
  assert.equal(isPartitioned({ ordering: 'key', durable: true }), true);
  assert.equal(isPartitioned({ ordering: 'key', durable: false }), false);
  assert.equal(isPartitioned({ ordering: 'none', durable: true }), false);
});

test('a refused partition count names both numbers and what to do', () => {
  const text = partitionCountRefused('orders', 8, 4, 'delete its partitions');
  assert.match(text, /orders is partitioned with 8 partitions, asked for 4/);
  assert.match(text, /partitions URL option/);
});
