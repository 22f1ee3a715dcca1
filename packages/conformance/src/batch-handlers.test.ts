import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { connect, defineTopic, Header, registerDriver, type ReceivedMessage } from '@brokerkit/core';
import { driverFactory as memoryFactory } from '@brokerkit/memory';
import { waitUntil } from './measure.js';

/**
 * Batch handlers beyond the conformance checks, on the memory broker: typed bodies, close()
 * finishing a batch in flight, and leases kept for a batch that outlasts the ack timeout.
 */
registerDriver(memoryFactory);

/** A Standard Schema by hand: `{ sku: string }` (`types` only carries the output type). */
const Order = {
  '~standard': {
    version: 1 as const,
    vendor: 'test',
    types: undefined as unknown as { input: unknown; output: { sku: string } },
    validate: (value: unknown) =>
      typeof value === 'object' && value !== null && typeof (value as { sku?: unknown }).sku === 'string'
        ? { value: value as { sku: string } }
        : { issues: [{ message: 'sku: expected a string', path: ['sku'] }] },
  },
};

describe('batch handlers (memory)', () => {
  it('get typed bodies; a body that fails the schema is dead-lettered and never joins a batch', async () => {
    const broker = await connect('memory://batch-typed');
    try {
      const orders = defineTopic('orders', { schema: Order });
      const skus: string[] = [];
      const dead: ReceivedMessage[] = [];
      await broker.consumer('orders.dlq', (message) => void dead.push(message));
      await broker.consumer(orders, (batch) => void skus.push(...batch.map((message) => message.body.sku)), { batch: { maxMessages: 10, maxWaitMs: 20 } });
      // The raw producer bypasses the schema, as another service might.
      await broker.producer().sendBatch('orders', [{ body: { sku: 'a' } }, { body: { sku: 7 } }, { body: { sku: 'b' } }]);
      assert.ok(await waitUntil(() => skus.length === 2 && dead.length === 1, 5_000), `${skus.length} handled, ${dead.length} dead-lettered`);
      assert.deepEqual(skus.sort(), ['a', 'b']);
      assert.equal(dead[0]?.headers[Header.deadLetterReason], 'validation-error');
    } finally {
      await broker.close();
    }
  });

  it('close() lets the batch in flight finish and acks it', async () => {
    const broker = await connect('memory://batch-close');
    await broker.ensureQueue('jobs');
    await broker.producer().sendBatch('jobs', Array.from({ length: 5 }, (_, n) => ({ body: n })));
    let started = false;
    let finished = false;
    const consumer = await broker.consumer('jobs', async () => {
      started = true;
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
    }, { batch: { maxMessages: 5, maxWaitMs: 1_000 } });
    assert.ok(await waitUntil(() => started, 5_000));
    await consumer.close();
    assert.equal(finished, true, 'close() returned before the batch finished');
    const again: unknown[] = [];
    await broker.consumer('jobs', (batch) => void again.push(...batch), { batch: { maxMessages: 5 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(again, [], 'the finished batch was acked, not released');
    await broker.close();
  });

  it('keeps the leases of a batch that runs past the ack timeout: nothing is redelivered meanwhile', async () => {
    const broker = await connect('memory://batch-lease');
    try {
      await broker.ensureQueue('slow');
      await broker.producer().sendBatch('slow', Array.from({ length: 4 }, (_, n) => ({ body: n })));
      const attempts: number[] = [];
      await broker.consumer('slow', async (batch) => {
        attempts.push(...batch.map((message) => message.attempt));
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }, { batch: { maxMessages: 4, maxWaitMs: 1_000 }, ackTimeoutMs: 300, concurrency: 2 });
      assert.ok(await waitUntil(() => attempts.length >= 4, 5_000));
      await new Promise((resolve) => setTimeout(resolve, 1_300));
      assert.deepEqual(attempts, [1, 1, 1, 1], 'a message came again while its batch ran');
    } finally {
      await broker.close();
    }
  });
});
