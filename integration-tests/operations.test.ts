import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ConfigError, connect, UnsupportedError, type Broker } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { brokersUnderTest } from './fixtures/brokers-under-test.js';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';
import { restartFor } from './fixtures/restart.js';

/**
 * Operating it (issue 33) on real brokers: a delayed message outlives the consumer that was
 * attached when it was sent, and a restart of the broker where it keeps its data (Redis with AOF,
 * RabbitMQ, Kafka, NATS); a delay a backend cannot make is refused, naming why. (The backlog:
 * the conformance check `backlog`, and health() in process.test.ts.)
 */
describe('operations: delayed sends on real brokers', () => {
  const urls = brokersUnderTest();
  const unique = (what: string): string => `bk-ops-${what}-${randomBytes(4).toString('hex')}`;

  for (const backend of ['memory', ...BACKENDS_UNDER_TEST]) {
    it(`${backend}: a delayed message outlives the consumer attached when it was sent; a delay it cannot make is refused`, { timeout: 60_000 }, async () => {
      const url = backend === 'memory' ? 'memory://operations' : (urls[backend] as string);
      const broker: Broker = await connect(url);
      try {
        const queue = unique('delay');
        const { delayedSend, maxDelayMs } = broker.capabilities;
        if (delayedSend === 'none') {
          await assert.rejects(broker.producer().send(queue, { body: 1, delayMs: 1_000 }), (error: unknown) => error instanceof UnsupportedError && /cannot delay a send: delayed send: /.test(error.message));
          return;
        }
        await assert.rejects(broker.producer().send(queue, { body: 1, delayMs: maxDelayMs + 60_000 }), (error: unknown) => error instanceof ConfigError && error.field === 'message.delayMs');
        const first = await connect(url);
        const early: number[] = [];
        await first.consumer(queue, () => void early.push(Date.now()));
        const dueAt = Date.now() + 1_500;
        await broker.producer().send(queue, { id: `${queue}-1`, body: { n: 1 }, deliverAt: new Date(dueAt) });
        await first.close();
        // Past its time, with no consumer attached; then another attaches.
        await new Promise((resolve) => setTimeout(resolve, 2_000));
        const arrivals: number[] = [];
        await broker.consumer(queue, (message) => void (message.id === `${queue}-1` && arrivals.push(Date.now())));
        assert.ok(await waitUntil(() => arrivals.length > 0, 10_000), 'the delayed message reached the consumer attached after its time');
        assert.deepEqual(early, [], 'nothing reached the first consumer before it closed');
        assert.ok((arrivals[0] as number) >= dueAt, 'not before its time');
      } finally {
        await broker.close();
      }
    });
  }

  for (const backend of ['redis', 'rabbitmq', 'kafka', 'nats'] as const) {
    it(`${backend}: delayed messages outlive a broker restart (the broker keeps its data)`, { timeout: 300_000 }, async (t) => {
      const restart = restartFor(backend);
      if (!restart) return t.skip('a broker this checkout did not start: not restarted');
      const url = urls[backend] as string;
      const queue = unique('restart');
      const sender = await connect(url);
      await sender.ensureQueue(queue);
      const dueAt = Date.now() + 4_000;
      const ids = [1, 2, 3].map((n) => `${queue}-${n}`);
      await sender.producer().sendBatch(queue, ids.map((id) => ({ id, body: { id }, deliverAt: new Date(dueAt) })));
      await sender.destroy();
      await restart();
      const broker = await connect(url);
      try {
        const arrivals = new Map<string, number>();
        await broker.consumer(queue, (message) => void arrivals.set(message.id, Date.now()));
        // RabbitMQ: a message that fell due while the broker restarted, before the topic's exchange
        // was recovered, waits for the dead-letter worker's next try (180 s on 3.10): late, not lost.
        const withinMs = backend === 'rabbitmq' ? 200_000 : 30_000;
        assert.ok(await waitUntil(() => ids.every((id) => arrivals.has(id)), withinMs), `after the restart, ${arrivals.size} of 3 delayed messages arrived`);
        assert.ok([...arrivals.values()].every((at) => at >= dueAt), 'none before its time');
        t.diagnostic(`${backend}: arrived ${[...arrivals.values()].map((at) => at - dueAt).join(', ')} ms after due`);
      } finally {
        await broker.close();
      }
    });
  }
});
