import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Delivery, DriverSubscription } from '../contract/driver.js';
import { OncePerKey, OpenSubscriptions } from './driver-helpers.js';

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
