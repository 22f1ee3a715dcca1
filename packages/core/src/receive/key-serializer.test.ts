import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { KeySerializer } from './key-serializer.js';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeySerializer', () => {
  it('runs same-key tasks one at a time in submission order, even when earlier ones are slower', async () => {
    const serializer = new KeySerializer();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`start ${name}`);
      await tick(ms);
      events.push(`end ${name}`);
    };
    await Promise.all([serializer.run('a', task('a1', 20)), serializer.run('a', task('a2', 1)), serializer.run('a', task('a3', 5))]);
    assert.deepEqual(events, ['start a1', 'end a1', 'start a2', 'end a2', 'start a3', 'end a3']);
  });

  it('runs different keys in parallel', async () => {
    const serializer = new KeySerializer();
    let active = 0;
    let maxActive = 0;
    const task = async (): Promise<void> => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      await tick(10);
      active -= 1;
    };
    await Promise.all(['a', 'b', 'c'].map((key) => serializer.run(key, task)));
    assert.equal(maxActive, 3);
  });

  it('keeps going after a task fails, and reports the failure to its caller', async () => {
    const serializer = new KeySerializer();
    const failing = serializer.run('k', async () => {
      throw new Error('boom');
    });
    const after = serializer.run('k', async () => undefined);
    await assert.rejects(failing, /boom/);
    await after;
  });

  it('runs keyless tasks at once and forgets idle keys', async () => {
    const serializer = new KeySerializer();
    await serializer.run(undefined, async () => undefined);
    await serializer.run('x', async () => undefined);
    await tick(0);
    assert.equal(serializer.activeKeys, 0);
  });
});

describe('KeySerializer.pending', () => {
  it('counts the running task and those queued behind it, per key', async () => {
    const serializer = new KeySerializer();
    let release: () => void = () => undefined;
    const first = serializer.run('a', () => new Promise<void>((resolve) => (release = resolve)));
    const second = serializer.run('a', async () => undefined);
    void serializer.run('b', async () => undefined);
    assert.equal(serializer.pending('a'), 2);
    assert.equal(serializer.pending('b'), 1);
    assert.equal(serializer.pending('c'), 0);
    await tick(0);
    release();
    await first;
    await second;
    await tick(0);
    assert.equal(serializer.pending('a'), 0);
    assert.equal(serializer.activeKeys, 0);
  });
});
