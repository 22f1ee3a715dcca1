import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { connect, Header, type Broker, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';
import { typedCollector } from './fixtures/typed-collector.js';

const run = promisify(execFile);

/** Debian's amqp-tools read brokerkit's messages, and brokerkit reads theirs; what goes over the socket. */
describe('rabbitmq: interop with amqp-tools, socket writes', () => {
  const suite = suiteBroker('rabbitmq');

  it('amqp-get reads a message sent by brokerkit, body intact', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(queue);
    await suite.broker.producer().send(queue, { body: { total: 12.5, note: 'grüße' }, headers: { 'x-trace': 'abc' } });
    const { stdout } = await run('amqp-get', ['-u', suite.url.href, '-q', queue]);
    assert.deepEqual(JSON.parse(stdout), { total: 12.5, note: 'grüße' });
  });

  it('a message published by amqp-publish is consumed with its headers and content type, attempt 1', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    await run('amqp-publish', ['-u', suite.url.href, '-e', queue, '-r', 'any.key', '-p', '-C', 'application/json', '-H', 'x-origin: amqp-tools', '-b', '{"n":1}']);
    assert.ok(await waitUntil(() => received.length > 0, 10_000));
    const [message] = received;
    assert.deepEqual(message?.body, { n: 1 });
    assert.equal(message?.headers['x-origin'], 'amqp-tools');
    assert.equal(message?.attempt, 1);
  });

  it('JSON published by amqp-publish without a content type reaches a typed topic parsed, not as bytes', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const bodies = await typedCollector(suite.broker, queue);
    await run('amqp-publish', ['-u', suite.url.href, '-e', queue, '-r', 'any.key', '-p', '-b', '{"n": 1}']);
    assert.ok(await waitUntil(() => bodies.length > 0, 10_000), 'the typed consumer handled it (a bytes body would fail validation)');
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it('a batch of 200 publishes leaves in a few socket writes, not one per message, and every message arrives', async () => {
    const queue = `bk-writes-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(queue);
    const producer = suite.broker.producer();
    await producer.send(queue, { body: 'opens the confirm channel' });
    // amqplib's socket, reached the way the adapter reaches it.
    type WriteMethod = (this: Socket, ...args: unknown[]) => unknown;
    const socket = (suite.broker.native() as { connection: { stream: Socket & { _write: WriteMethod; _writev?: WriteMethod } } }).connection.stream;
    let writes = 0;
    const { _write: write, _writev: writev } = socket;
    socket._write = function (...args: unknown[]) {
      writes += 1;
      return write.apply(this, args);
    };
    if (writev) {
      socket._writev = function (...args: unknown[]) {
        writes += 1;
        return writev.apply(this, args);
      };
    }
    try {
      await producer.sendBatch(queue, Array.from({ length: 200 }, (_, index) => ({ body: { index } })));
    } finally {
      socket._write = write;
      if (writev) socket._writev = writev;
    }
    assert.ok(writes >= 1 && writes <= 10, `200 publishes took ${writes} socket writes`);

    const seen = new Set<number>();
    const consumer = await suite.broker.consumer<{ index?: number }>(queue, (message) => {
      if (typeof message.body === 'object') seen.add(message.body.index as number);
    });
    try {
      assert.ok(await waitUntil(() => seen.size === 200, 30_000), `${seen.size} of 200 received`);
    } finally {
      await consumer.close();
    }
  });
});

/** A key-ordered subscription's instances pass partitions to their owners (packages/rabbitmq/src/partitioned-subscription.ts). */
describe('rabbitmq key-ordered subscriptions: hand-overs', () => {
  const suite = suiteBroker('rabbitmq');

  it('messages held while a partition is handed over are not counted as attempts, and keys stay in order', async () => {
    // With maxAttempts 1, a message whose attempt reads 2 is dead-lettered unhandled (the crash-loop
    // guard). Instances joining one by one make partitions change hands with messages prefetched.
    const queue = `bk-handover-${randomBytes(4).toString('hex')}`;
    const instances: Broker[] = [];
    const attempts: number[] = [];
    const handledBy = [0, 0, 0];
    const lastOfKey = new Map<string, number>();
    let outOfOrder = 0;
    const deadLettered: ReceivedMessage[] = [];
    try {
      const options = { ordering: 'key', concurrency: 4, retry: { maxAttempts: 1 } } as const;
      const join = async (): Promise<void> => {
        const broker = await connect(suite.url.toString());
        const index = instances.push(broker) - 1;
        await broker.consumer(queue, async (message) => {
          attempts.push(message.attempt);
          handledBy[index] = (handledBy[index] ?? 0) + 1;
          const { n } = message.body as { n: number };
          if ((lastOfKey.get(message.key ?? '') ?? -1) > n) outOfOrder += 1;
          lastOfKey.set(message.key ?? '', n);
          await sleep(10);
        }, options);
      };
      await join();
      await suite.broker.producer().sendBatch(queue, Array.from({ length: 1800 }, (_, n) => ({ key: `key-${n % 64}`, body: { n } })));
      await join();
      await sleep(800);
      await join();
      await suite.broker.consumer(`${queue}.dlq`, (message) => void deadLettered.push(message));
      await waitUntil(() => attempts.length + deadLettered.length >= 1800, 60_000);
      await sleep(500);
      assert.equal(deadLettered.length, 0, `${deadLettered.length} messages were dead-lettered: ${deadLettered[0]?.headers[Header.deadLetterReason] ?? ''}`);
      assert.equal(attempts.length, 1800);
      assert.deepEqual([...new Set(attempts)], [1], 'every message handled at its first attempt');
      assert.equal(outOfOrder, 0, 'messages that ran before an earlier one of their key');
      // The first instance had every partition; the others got theirs by hand-overs.
      assert.ok(handledBy.every((count) => count > 0), `handled per instance: ${handledBy.join(', ')}`);
    } finally {
      await Promise.all(instances.map((broker) => broker.destroy()));
    }
  });
});
