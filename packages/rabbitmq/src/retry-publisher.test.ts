import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { RabbitConnection } from './connection.js';
import type { Publisher } from './publisher.js';
import { RetryPublisher } from './subscription.js';

test('a retry queue is declared again while in use: x-expires counts publishing as no use', async (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const declared: string[] = [];
  const published: string[] = [];
  const channel = { on: () => undefined, close: async () => undefined, assertQueue: async (name: string) => void declared.push(name) };
  const connection = { model: { createChannel: async () => channel } } as unknown as RabbitConnection;
  const publisher = { publish: async (messages: { routingKey: string }[]) => void published.push(...messages.map((m) => m.routingKey)) } as unknown as Publisher;
  const retries = new RetryPublisher(connection, publisher);
  const decoded = { message: { id: 'm1', key: undefined, headers: {}, body: new Uint8Array(0) }, retries: 0, attempt: 1, publishedAt: new Date(0) };
  await retries.retryLater('orders', decoded, 1_000);
  t.mock.timers.tick(30_000);
  await retries.retryLater('orders', decoded, 1_000);
  assert.deepEqual(declared, ['orders.retry.1000ms'], 'declared once within a minute');
  // Ten minutes on, a queue declared only at first would have expired with what it held.
  t.mock.timers.tick(9 * 60_000);
  await retries.retryLater('orders', decoded, 1_000);
  assert.deepEqual(declared, ['orders.retry.1000ms', 'orders.retry.1000ms']);
  assert.deepEqual(published, ['orders.retry.1000ms', 'orders.retry.1000ms', 'orders.retry.1000ms']);
});
