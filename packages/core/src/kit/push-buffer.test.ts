import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { PushBuffer } from './push-buffer.js';

describe('PushBuffer', () => {
  it('hands out pushes in order, up to max', async () => {
    const buffer = new PushBuffer<number>(50);
    for (const n of [1, 2, 3]) buffer.push(n);
    assert.deepEqual(await buffer.take(2, new AbortController().signal), [1, 2]);
    assert.deepEqual(await buffer.take(5, new AbortController().signal), [3]);
  });

  it('a waiting take() wakes on the first push; an idle one returns empty after the wait', async () => {
    const buffer = new PushBuffer<string>(5_000);
    const waiting = buffer.take(10, new AbortController().signal);
    setTimeout(() => buffer.push('x'), 10);
    assert.deepEqual(await waiting, ['x']);
    const started = Date.now();
    assert.deepEqual(await new PushBuffer<string>(30).take(1, new AbortController().signal), []);
    assert.ok(Date.now() - started >= 25);
  });

  it('every wait gets the full idle time, although waits share one timer', async () => {
    const buffer = new PushBuffer<string>(80);
    const signal = new AbortController().signal;
    const first = buffer.take(1, signal);
    setTimeout(() => buffer.push('x'), 30);
    assert.deepEqual(await first, ['x']);
    const started = performance.now();
    assert.deepEqual(await buffer.take(1, signal), []);
    const waited = performance.now() - started;
    assert.ok(waited >= 75, `the second wait ended after ${waited.toFixed(0)} ms, before its own 80 ms`);
    buffer.close();
  });

  it('abort and close end a wait at once; close hands back what was never taken', async () => {
    const buffer = new PushBuffer<number>(60_000);
    const controller = new AbortController();
    const waiting = buffer.take(1, controller.signal);
    controller.abort();
    assert.deepEqual(await waiting, []);
    const second = buffer.take(1, new AbortController().signal);
    buffer.close();
    assert.deepEqual(await second, []);
    const other = new PushBuffer<number>();
    other.push(7);
    assert.deepEqual(other.close(), [7]);
    other.push(8);
    assert.equal(other.length, 0, 'no pushes after close');
  });

  it('a failure is thrown by the next take(), once', async () => {
    const buffer = new PushBuffer<number>(20);
    buffer.fail(new Error('stream broke'));
    await assert.rejects(buffer.take(1, new AbortController().signal), /stream broke/);
    assert.deepEqual(await buffer.take(1, new AbortController().signal), []);
  });

  it('retain() drops what no longer belongs here', () => {
    const buffer = new PushBuffer<number>();
    for (const n of [1, 2, 3, 4]) buffer.push(n);
    assert.deepEqual(buffer.retain((n) => n % 2 === 0), [1, 3]);
    assert.equal(buffer.length, 2);
  });
});
