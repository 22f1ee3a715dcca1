import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { connect, TopologyError, type Broker, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';

const run = promisify(execFile);

/** A key-ordered subscription on Redis is split into partition streams, each read by one instance (packages/redis/src/partitions.ts). */
describe('redis key-ordered subscriptions: partitions', () => {
  const suite = suiteBroker('redis');
  const cli = async (...args: string[]): Promise<string> => {
    const { url } = suite;
    return (await run('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', '-n', url.pathname.slice(1) || '0', ...args])).stdout.trim();
  };
  const unique = (what: string): string => `bk-part-${what}-${randomBytes(4).toString('hex')}`;
  const opened: Broker[] = [];
  const open = async (query = ''): Promise<Broker> => {
    const url = new URL(suite.url.toString());
    for (const [name, value] of new URLSearchParams(query)) url.searchParams.set(name, value);
    const broker = await connect(url.toString());
    opened.push(broker);
    return broker;
  };
  const closeAll = async (): Promise<void> => {
    await Promise.all(opened.splice(0).map((broker) => broker.destroy()));
  };

  it('an entry XADDed by redis-cli reaches a key-ordered consumer named and dated as a plain consumer would see it', async () => {
    const queue = unique('cli');
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => void received.push(message), { ordering: 'key' });
    const entryId = await cli('XADD', queue, '*', 'body', 'from redis-cli', 'key', 'customer-1');
    assert.ok(await waitUntil(() => received.length > 0, 10_000), 'the entry went through the router to a partition');
    const [message] = received;
    assert.equal(message?.id, `${queue}/${entryId}`, 'without an id field, the id is the topic entry, not the partition entry');
    assert.equal(message?.key, 'customer-1');
    assert.equal(message?.publishedAt.getTime(), parseInt(entryId, 10), 'published when the topic took it');
    assert.equal(message?.attempt, 1);
  });

  it('partitioning with another number of partitions than declared is a TopologyError naming both', async () => {
    const queue = unique('count');
    const first = await open();
    await first.ensureSubscription(queue, queue, { ordering: 'key' });
    const other = await open('partitions=4');
    await assert.rejects(
      other.consumer(queue, () => undefined, { ordering: 'key' }),
      (error: unknown) => error instanceof TopologyError && /partitioned with 8 partitions, asked for 4/.test(error.message),
    );
    await closeAll();
  });

  it("a consumer with ordering 'none' on a key-ordered subscription is refused: it would take the router's entries", async () => {
    const queue = unique('mixed');
    const keyed = await open();
    await keyed.consumer(queue, () => undefined, { ordering: 'key' });
    const plain = await open();
    await assert.rejects(plain.consumer(queue, () => undefined), (error: unknown) => error instanceof TopologyError && /ordering 'key'/.test(error.message));
    await closeAll();
  });

  it('two instances split 64 keys between them, and one that closes hands its partitions to the other within 2 s', async () => {
    const queue = unique('spread');
    const handledBy = [0, 0];
    const instances = [await open(), await open()];
    const consumers = [];
    for (const [index, broker] of instances.entries()) {
      consumers.push(await broker.consumer(queue, () => void (handledBy[index] = (handledBy[index] ?? 0) + 1), { ordering: 'key', concurrency: 4 }));
    }
    const producer = suite.broker.producer();
    const batch = (round: number) => Array.from({ length: 64 }, (_, k) => ({ key: `key-${k}`, body: { round } }));
    for (let round = 0; round < 4; round += 1) await producer.sendBatch(queue, batch(round));
    assert.ok(await waitUntil(() => (handledBy[0] ?? 0) + (handledBy[1] ?? 0) === 256, 10_000));
    const share = (handledBy[0] ?? 0) / 256;
    assert.ok(share >= 0.3 && share <= 0.7, `the first instance handled ${(share * 100).toFixed(0)} % of the messages`);
    await consumers[0]?.close();
    const closedAt = Date.now();
    const before = handledBy[1] ?? 0;
    await producer.sendBatch(queue, batch(4));
    assert.ok(await waitUntil(() => (handledBy[1] ?? 0) - before === 64, 10_000), 'every key, the closed instance’s too, reached the other');
    assert.ok(Date.now() - closedAt < 2_000, `the closed instance's partitions moved in ${Date.now() - closedAt} ms`);
    await closeAll();
  });

  it('acknowledged entries are trimmed from the partition streams', async () => {
    const queue = unique('trim');
    let handled = 0;
    await suite.broker.consumer(queue, () => void (handled += 1), { ordering: 'key' });
    await suite.broker.producer().sendBatch(queue, Array.from({ length: 200 }, (_, i) => ({ key: `k${i % 16}`, body: { i } })));
    assert.ok(await waitUntil(() => handled === 200, 10_000));
    const lengths = async () => Promise.all(Array.from({ length: 8 }, (_, p) => cli('XLEN', `{${queue}}.${queue}.p${p}`).then(Number)));
    assert.ok(
      await waitUntil(async () => (await lengths()).every((length) => length <= 1), 10_000),
      `partition lengths after consuming: ${(await lengths()).join(', ')}`,
    );
  });
});
