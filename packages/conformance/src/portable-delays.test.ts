import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { connect, registerDriver } from '@brokerkit/core';
import type { Driver } from '@brokerkit/core/driver';
import { driverFactory as memoryFactory } from '@brokerkit/memory';
import { waitUntil } from './measure.js';
import { runConformance } from './runner.js';

/**
 * Core's portable delayed sends (`traits.portableDelays`, for SQS and any backend that cannot
 * hold a message until a time), on the memory driver with its own delays hidden: the driver
 * never sees a `deliverAt`, so only core's delay queue and mover can make the delay.
 */
/** Delay queues declared, per memory namespace: what `queueExists` answers for the lazy variant. */
const declaredQueues = new Set<string>();

/**
 * `memory-portable-delays`: every subscriber runs its topic's mover (SQS, Pub/Sub).
 * `memory-lazy-delays`: a mover starts only once its delay queue exists (`queueExists`, Kafka).
 */
for (const lazy of [false, true]) {
  const backend = lazy ? 'memory-lazy-delays' : 'memory-portable-delays';
  registerDriver({
    schemes: [backend],
    async open(url: URL): Promise<Driver> {
      const namespace = `${backend}-${url.hostname}`;
      const inner = await memoryFactory.open(new URL(`memory://${namespace}`));
      return {
        ...inner,
        backend,
        capabilities: { ...inner.capabilities, delayedSend: 'emulated' },
        traits: { ...inner.traits, portableDelays: { hopMs: 1_000, ...(lazy ? { queueExists: async (name: string) => declaredQueues.has(`${namespace}/${name}`) } : {}) } },
        send: (topic, messages) => {
          assert.ok(messages.every((message) => message.deliverAt === undefined), 'the driver was handed a delay');
          return inner.send(topic, messages);
        },
        subscribe: (spec) => inner.subscribe(spec),
        ensureQueue: async (name) => {
          await inner.ensureQueue(name);
          declaredQueues.add(`${namespace}/${name}`);
        },
        ensureSubscription: (spec) => inner.ensureSubscription(spec),
        ping: () => inner.ping(),
        close: () => inner.close(),
        destroy: () => inner.destroy(),
        native: () => inner.native(),
        ...(inner.backlog ? { backlog: inner.backlog.bind(inner) } : {}),
      };
    },
  });
}

describe('portable delayed sends (core: a delay queue per topic, moved by its subscribers)', () => {
  for (const backend of ['memory-portable-delays', 'memory-lazy-delays']) {
    it(`${backend}: pass delayed-send, and the checks a decorator could break`, async () => {
      const report = await runConformance({ backend, url: `${backend}://suite` }, { only: ['delayed-send', 'round-trip', 'fan-out', 'key-ordering', 'dead-letter'] });
      for (const check of report.checks) assert.equal(check.status, 'pass', `${check.id}: ${check.reason ?? ''}`);
    });
  }

  it('where movers start lazily, a subscriber attached before the first delayed send starts its mover within 10 s', { timeout: 30_000 }, async () => {
    const subscriber = await connect('memory-lazy-delays://early');
    const sender = await connect('memory-lazy-delays://early');
    try {
      const arrived = new Map<string, number>();
      await subscriber.consumer('orders', (message) => void arrived.set(message.id, Date.now()));
      const dueAt = Date.now() + 300;
      // Another process's send: nothing here tells the subscriber the delay queue now exists.
      await sender.producer().send('orders', { id: 'delayed', body: 1, deliverAt: new Date(dueAt) });
      assert.equal(declaredQueues.has('memory-lazy-delays-early/orders.delayed'), true, 'the send declared the delay queue');
      assert.ok(await waitUntil(() => arrived.has('delayed'), 15_000), 'the delayed message arrived');
      assert.ok((arrived.get('delayed') ?? 0) >= dueAt, 'not before its time');
    } finally {
      await Promise.all([subscriber.close(), sender.close()]);
    }
  });

  it('keep a delayed message while no one subscribes, and deliver it to a later subscriber when due', async () => {
    const broker = await connect('memory-portable-delays://later');
    try {
      await broker.ensureQueue('jobs');
      const dueAt = Date.now() + 600;
      await broker.producer().sendBatch('jobs', [{ id: 'now', body: 1 }, { id: 'later', key: 'customer-7', body: 2, headers: { 'x-origin': 'test' }, deliverAt: new Date(dueAt) }]);
      const arrived = new Map<string, number>();
      const later: { key?: string; headers?: Record<string, string> } = {};
      await new Promise((resolve) => setTimeout(resolve, 900));
      await broker.consumer('jobs', (message) => {
        arrived.set(message.id, Date.now());
        if (message.id === 'later') Object.assign(later, { key: message.key, headers: message.headers });
      });
      assert.ok(await waitUntil(() => arrived.size === 2, 5_000), `${arrived.size} of 2 arrived`);
      assert.ok((arrived.get('later') ?? 0) >= dueAt, 'the delayed one came early');
      assert.equal(later.key, 'customer-7', 'its key');
      assert.equal(later.headers?.['x-origin'], 'test', 'its headers');
      assert.ok(!Object.keys(later.headers ?? {}).some((name) => name.startsWith('bk-deliver') || name.startsWith('bk-delayed')), 'the waiting headers are gone');
    } finally {
      await broker.close();
    }
  });
});
