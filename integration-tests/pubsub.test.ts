import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { Header, connect, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';
import { typedCollector } from './fixtures/typed-collector.js';

const run = promisify(execFile);
/** scripts/brokers builds this: Google's pstest server, and a client on Google's generated gRPC stubs. */
const goClient = fileURLToPath(new URL('../.brokers/pubsub/pubsub-fake', import.meta.url));

describe('pubsub: interop with a Go gRPC client, ordering keys, dead-lettering', () => {
  const suite = suiteBroker('pubsub');
  const project = (): string => suite.url.hostname;
  const emulator = (): string => suite.url.searchParams.get('emulator') ?? '127.0.0.1:8085';

  const interop = { skip: existsSync(goClient) ? false : 'the Go client is built by ./scripts/brokers up pubsub' };

  it('the Go client pulls a message published by brokerkit: data, attributes and ordering key intact', interop, async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(queue);
    await suite.broker.producer().send(queue, { id: 'order-1', key: 'customer-7', body: { total: 12.5 }, headers: { 'x-trace': 'abc' } });
    const { stdout } = await run(goClient, ['-addr', emulator(), '-pull', `projects/${project()}/subscriptions/${queue}`], { timeout: 40_000 });
    const got = JSON.parse(stdout) as { data: string; attributes: Record<string, string>; orderingKey: string };
    assert.deepEqual(JSON.parse(got.data), { total: 12.5 });
    assert.equal(got.orderingKey, 'customer-7');
    assert.equal(got.attributes['x-trace'], 'abc');
    assert.equal(got.attributes['bk-id'], 'order-1');
    assert.equal(got.attributes[Header.contentType], 'application/json');
  });

  it("a receipt's brokerId is the server's message id, as the subscriber sees it", async () => {
    const queue = `bk-receipt-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(queue);
    const receipt = await suite.broker.producer().send(queue, { body: { n: 1 } });
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    assert.ok(await waitUntil(() => received.length > 0, 30_000), 'brokerkit received it');
    const [message] = received;
    assert.equal(message?.id, receipt.id);
    assert.ok(receipt.brokerId, 'the receipt names the server id');
    assert.equal((message?.native as { id: string }).id, receipt.brokerId);
  });

  it('a message published by the Go client is consumed with its attributes as headers', interop, async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    await run(goClient, ['-addr', emulator(), '-publish', `projects/${project()}/topics/${queue}`, '-data', 'plain text', '-attrs', '{"origin":"go"}'], { timeout: 20_000 });
    assert.ok(await waitUntil(() => received.length > 0, 20_000));
    assert.equal(Buffer.from(received[0]?.body as Uint8Array).toString(), 'plain text');
    assert.equal(received[0]?.headers.origin, 'go');
    assert.equal(received[0]?.attempt, 1);
  });

  it('JSON published by the Go client without a content type reaches a typed topic parsed, not as bytes', interop, async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const bodies = await typedCollector(suite.broker, queue);
    await run(goClient, ['-addr', emulator(), '-publish', `projects/${project()}/topics/${queue}`, '-data', '{"n": 1}'], { timeout: 20_000 });
    assert.ok(await waitUntil(() => bodies.length > 0, 20_000), 'the typed consumer handled it (a bytes body would fail validation)');
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it("ordering 'key': several keys, concurrency 8, two instances, each key in order", async () => {
    const topic = `bk-order-${randomBytes(4).toString('hex')}`;
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const perKey = 30;
    const seen = new Map<string, number[]>(keys.map((key) => [key, []]));
    let running = 0;
    let maxParallel = 0;
    const instances = await Promise.all([0, 1].map(() => connect(suite.url.toString())));
    after(() => Promise.all(instances.map((instance) => instance.close())));
    for (const instance of instances) {
      await instance.subscriber<{ n: number }>(topic, `${topic}-workers`, async (message) => {
        running += 1;
        maxParallel = Math.max(maxParallel, running);
        await new Promise((resolve) => setTimeout(resolve, 2));
        seen.get(message.key as string)?.push(message.body.n);
        running -= 1;
      }, { ordering: 'key', concurrency: 8 });
    }
    const producer = suite.broker.producer();
    for (let n = 0; n < perKey; n += 1) await producer.sendBatch(topic, keys.map((key) => ({ key, body: { n } })));
    assert.ok(await waitUntil(() => [...seen.values()].every((list) => list.length >= perKey), 60_000), 'every message arrived');
    for (const [key, list] of seen) assert.deepEqual(list, Array.from({ length: perKey }, (_, n) => n), `key ${key} in order`);
    assert.ok(maxParallel > 1, `keys ran in parallel (max ${maxParallel})`);
  });

  it('a handler that always fails: dead-lettered after maxAttempts with metadata, then nothing more', async () => {
    const queue = `bk-dlq-${randomBytes(4).toString('hex')}`;
    let calls = 0;
    await suite.broker.consumer(queue, () => {
      calls += 1;
      throw new Error('poison');
    }, { retry: { maxAttempts: 3, backoff: { initialMs: 50, maxMs: 100 } } });
    const deadLettered: ReceivedMessage[] = [];
    await suite.broker.consumer(`${queue}.dlq`, (message) => {
      deadLettered.push(message);
    });
    const { id } = await suite.broker.producer().send(queue, { body: { poison: true } });
    assert.ok(await waitUntil(() => deadLettered.length > 0, 30_000), 'dead-lettered');
    assert.equal(deadLettered[0]?.id, id);
    assert.equal(deadLettered[0]?.headers['bk-dead-letter-reason'], 'max-attempts');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(calls, 3, 'three attempts, no more');
  });
});
