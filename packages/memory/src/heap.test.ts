import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MinHeap, Timeline } from './heap.js';
import { MemorySubscription, type StoredMessage } from './state.js';

describe('MinHeap', () => {
  it('pops in order whatever the order of pushes', () => {
    const heap = new MinHeap<number>((a, b) => a < b);
    const values = Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    for (const value of values) heap.push(value);
    const popped: number[] = [];
    for (let next = heap.pop(); next !== undefined; next = heap.pop()) popped.push(next);
    assert.deepEqual(popped, [...values].sort((a, b) => a - b));
  });
});

describe('Timeline', () => {
  it('hands each entry over once its time has passed, earliest first, on one timer', async () => {
    const due: string[] = [];
    const timeline = new Timeline<string>(() => true, (item) => due.push(item));
    const now = performance.now();
    timeline.schedule('late', now + 40);
    timeline.schedule('early', now + 10);
    timeline.schedule('middle', now + 25);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.deepEqual(due, ['early', 'middle', 'late']);
    assert.equal(timeline.pending, 0);
  });
});

const stored = (sequence: number, key?: string): StoredMessage => ({ sequence, message: { id: `m${sequence}`, key, headers: {}, body: new Uint8Array() }, publishedAtMs: Date.now(), deliveries: 0 });
const ids = (leases: { stored: StoredMessage }[]): string[] => leases.map((lease) => lease.stored.message.id);

describe('MemorySubscription', () => {
  const owner = Symbol('test');

  it('gives a handed-back message before later ones, in publish order', () => {
    const subscription = new MemorySubscription('s');
    subscription.attach('none');
    for (let n = 1; n <= 4; n += 1) subscription.enqueue(stored(n));
    const [first] = subscription.take(1, owner, 60_000);
    assert.deepEqual(ids(subscription.take(1, owner, 60_000)), ['m2']);
    subscription.nack((first as { token: number }).token, 0);
    assert.deepEqual(ids(subscription.take(10, owner, 60_000)), ['m1', 'm3', 'm4']);
    subscription.dispose();
  });

  it("with ordering 'key', holds a key's later messages until its message is settled, then gives them in order", () => {
    const subscription = new MemorySubscription('s');
    subscription.attach('key');
    for (const [n, key] of [[1, 'a'], [2, 'a'], [3, 'b'], [4, 'a']] as const) subscription.enqueue(stored(n, key));
    const taken = subscription.take(10, owner, 60_000);
    assert.deepEqual(ids(taken), ['m1', 'm3']);
    assert.equal(subscription.depth, 4);
    subscription.ack((taken[0] as { token: number }).token);
    assert.deepEqual(ids(subscription.take(10, owner, 60_000)), ['m2']);
    subscription.dispose();
  });
});

describe('Timeline sweeps', () => {
  it('keeps about as many entries as are current, however many were scheduled', () => {
    const current = new Set<number>();
    const timeline = new Timeline<number>((item) => current.has(item), () => undefined);
    const later = performance.now() + 60_000;
    for (let n = 0; n < 100_000; n += 1) {
      timeline.schedule(n, later);
      if (n % 1_000 === 0) current.add(n);
    }
    assert.ok(timeline.pending <= 4_096, `${timeline.pending} entries held for ${current.size} current ones`);
    timeline.clear();
  });
});
