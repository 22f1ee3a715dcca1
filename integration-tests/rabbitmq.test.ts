import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { connect, type Broker } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { startBrokers } from '@brokerkit/testing';
import './fixtures/register.js';

describe('rabbitmq: socket writes', () => {
  let broker: Broker | undefined;
  let stopBrokers: (() => Promise<void>) | undefined;

  before(async () => {
    const brokers = await startBrokers(['rabbitmq']);
    stopBrokers = brokers.stop;
    broker = await connect(brokers.urls.rabbitmq as string);
  });
  after(async () => {
    await broker?.close();
    await stopBrokers?.();
  });

  it('a batch of 200 publishes leaves in a few socket writes, not one per message, and every message arrives', async () => {
    const queue = `bk-writes-${randomBytes(4).toString('hex')}`;
    await broker!.ensureQueue(queue);
    const producer = broker!.producer();
    await producer.send(queue, { body: 'opens the confirm channel' });
    // amqplib's socket, reached the way the adapter reaches it.
    type WriteMethod = (this: Socket, ...args: unknown[]) => unknown;
    const socket = (broker!.native() as { connection: { stream: Socket & { _write: WriteMethod; _writev?: WriteMethod } } }).connection.stream;
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
    const consumer = await broker!.consumer<{ index?: number }>(queue, (message) => {
      if (typeof message.body === 'object') seen.add(message.body.index as number);
    });
    try {
      assert.ok(await waitUntil(() => seen.size === 200, 30_000), `${seen.size} of 200 received`);
    } finally {
      await consumer.close();
    }
  });
});
