import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Delivery, DriverSubscription } from '../contract/driver.js';
import { ConnectionError } from '../errors/index.js';
import { OncePerKey, OpenSubscriptions, asBuffer, firstContact } from './driver-helpers.js';

describe('asBuffer', () => {
  it('returns a Buffer as is and views other bytes without copying', () => {
    const buffer = Buffer.from('abc');
    assert.equal(asBuffer(buffer), buffer);
    const backing = new Uint8Array([0, 104, 105, 0]);
    const view = asBuffer(backing.subarray(1, 3));
    assert.equal(view.toString('utf8'), 'hi');
    backing[1] = 72;
    assert.equal(view.toString('utf8'), 'Hi', 'same memory, not a copy');
  });
});

describe('OncePerKey', () => {
  it('creates once per key however many ask at once, and retries after a failure', async () => {
    const cache = new OncePerKey<number>();
    let calls = 0;
    const create = async (): Promise<number> => {
      calls += 1;
      return calls;
    };
    assert.deepEqual(await Promise.all([cache.get('a', create), cache.get('a', create)]), [1, 1]);
    await assert.rejects(cache.get('b', () => Promise.reject(new Error('down'))));
    assert.equal(await cache.get('b', create), 2, 'the failure was forgotten');
  });

  it('done() says a key was created only once its creation succeeded', async () => {
    const cache = new OncePerKey<void>();
    let finish: () => void = () => undefined;
    const creating = cache.get('a', () => new Promise<void>((resolve) => (finish = resolve)));
    assert.equal(cache.done('a'), false, 'still being created');
    finish();
    await creating;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cache.done('a'), true);
    await assert.rejects(cache.get('b', () => Promise.reject(new Error('down'))));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(cache.done('b'), false, 'a failed creation is not done');
  });
});

describe('OpenSubscriptions', () => {
  const fake = (log: string[], name: string): DriverSubscription & { abandon(): Promise<void> } => ({
    receive: async (): Promise<Delivery[]> => [],
    close: async () => {
      log.push(`close ${name}`);
    },
    abandon: async () => {
      log.push(`abandon ${name}`);
    },
  });

  it('a subscription closed by the portable layer leaves the set; the rest are settled once', async () => {
    const log: string[] = [];
    const open = new OpenSubscriptions<ReturnType<typeof fake>>();
    const a = open.track(fake(log, 'a'));
    open.track(fake(log, 'b'));
    await a.close();
    await open.settleAll();
    await open.settleAll();
    assert.deepEqual(log, ['close a', 'close b']);
  });

  it('settleAll takes another action (a crash-like abandon) and survives a failing one', async () => {
    const log: string[] = [];
    const open = new OpenSubscriptions<ReturnType<typeof fake>>();
    const broken = { ...fake(log, 'x'), abandon: () => Promise.reject(new Error('gone')) };
    open.track(broken);
    open.track(fake(log, 'y'));
    await open.settleAll((subscription) => subscription.abandon());
    assert.deepEqual(log, ['abandon y']);
  });
});

describe('firstContact', () => {
  it('passes the probe result through', async () => {
    assert.equal(await firstContact('X at h:1', async () => 42, () => assert.fail('nothing to release')), 42);
  });

  it('a failing probe: release, then a ConnectionError naming where and why', async () => {
    let released = 0;
    const error = await firstContact('X at h:1', () => Promise.reject(new Error('ECONNREFUSED')), () => (released += 1)).catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal((error as Error).message, 'cannot reach X at h:1: Error: ECONNREFUSED');
    assert.equal(released, 1);
  });

  it('a probe past its time fails as "within N ms", and a rejecting release does not mask it', async () => {
    const error = await firstContact('X at h:1', () => new Promise(() => undefined), () => Promise.reject(new Error('no')), 30).catch((e: unknown) => e);
    assert.ok(error instanceof ConnectionError);
    assert.equal((error as Error).message, 'cannot reach X at h:1 within 30 ms');
  });
});
