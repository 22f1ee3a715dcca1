import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ClosedError, ConfigError, Header, MessageTooLargeError, connect, defineTopic, registerDriver, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '../src/index.js';
import { driverFactory, type MemoryBroker } from '@brokerkit/memory';

registerDriver(driverFactory);

let counter = 0;
/** A Standard Schema v1 that accepts what `accepts` says (zod and others implement the same shape). */
type Schema = Parameters<typeof defineTopic>[1]['schema'];
const schemaOf = (accepts: (value: unknown) => boolean): Schema => ({
  '~standard': { version: 1, vendor: 'test', validate: (value: unknown) => (accepts(value) ? { value } : { issues: [{ message: 'refused' }] }) },
});
const fresh = (label: string): string => `${label}-${process.pid}-${++counter}`;

describe('memory backend as a new user meets it', () => {
  it('rejects a bad memory:// URL naming the option', async () => {
    await assert.rejects(connect('memory://?maxMessageBytes=lots'), (e: unknown) => e instanceof ConfigError && e.field === 'option "maxMessageBytes"' && /not a whole number/.test(e.message));
    await assert.rejects(connect('memory://?colour=red'), (e: unknown) => e instanceof ConfigError && /accepted: maxMessageBytes/.test(e.message));
  });

  it('refuses a huge message with sizes in the error, and delivers nothing of it', async () => {
    await using broker = await connect('memory://huge?maxMessageBytes=1024');
    const queue = fresh('huge');
    await broker.ensureQueue(queue);
    await assert.rejects(broker.producer().send(queue, { body: 'x'.repeat(5_000) }), (e: unknown) => e instanceof MessageTooLargeError && /5\d{3} bytes exceeds the memory limit of 1024 bytes/.test(e.message));
    assert.equal(broker.native<MemoryBroker>().depth(queue, queue), 0);
  });

  it('a handler that throws forever is tried maxAttempts times, then dead-lettered — no endless loop', async () => {
    await using broker = await connect('memory://');
    const queue = fresh('forever');
    let calls = 0;
    const dead: ReceivedMessage[] = [];
    await broker.consumer(queue, () => {
      calls += 1;
      throw new TypeError('cannot read properties of undefined');
    }, { retry: { maxAttempts: 4, backoff: { initialMs: 5, jitter: 0 } } });
    await broker.consumer(`${queue}.dlq`, (message) => {
      dead.push(message);
    });
    await broker.producer().send(queue, { body: { id: 1 } });
    assert.ok(await waitUntil(() => dead.length === 1, 10_000));
    assert.equal(calls, 4);
    assert.equal(dead[0]?.headers[Header.attempts], '4');
    assert.match(dead[0]?.headers[Header.lastError] ?? '', /TypeError: cannot read properties/);
    assert.equal(broker.native<MemoryBroker>().depth(queue, queue), 0);
  });

  it('close() during in-flight work finishes and acks it; nothing is redelivered or lost', async () => {
    const queue = fresh('inflight');
    const first = await connect('memory://');
    await first.ensureQueue(queue);
    const handled: number[] = [];
    await first.consumer<{ n: number }>(queue, async (message) => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      handled.push(message.body.n);
    }, { concurrency: 3 });
    await first.producer().sendBatch(queue, Array.from({ length: 10 }, (_, n) => ({ body: { n } })));
    assert.ok(await waitUntil(() => handled.length >= 1, 5_000));
    await first.close();
    assert.throws(() => first.producer(), ClosedError, 'a closed connection refuses work with a ClosedError');
    const second = await connect('memory://');
    await second.consumer<{ n: number }>(queue, async (message) => {
      handled.push(message.body.n);
    });
    assert.ok(await waitUntil(() => handled.length >= 10, 5_000));
    await second.close();
    assert.deepEqual([...handled].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'each message exactly once');
  });

  it('the quick start from the README works as written', async () => {
    await using broker = await connect(process.env.BROKER_URL ?? 'memory://');
    const queue = fresh('orders');
    const charged: number[] = [];
    await broker.consumer<{ orderId: number }>(
      queue,
      async (message) => {
        charged.push(message.body.orderId);
      },
      { concurrency: 8, retry: { maxAttempts: 5, backoff: { initialMs: 500, maxMs: 30_000 } } },
    );
    await broker.producer().send(queue, { body: { orderId: 42 }, key: 'customer-7' });
    assert.ok(await waitUntil(() => charged.includes(42), 5_000));
  });

  it('a body sent without a content type (another producer) is bytes by default, JSON with a schema or when the handler says so', async () => {
    await using broker = await connect('memory://');
    const plain = fresh('foreign');
    const typed = defineTopic(fresh('foreign-typed'), { schema: schemaOf((v) => typeof (v as { n?: unknown })?.n === 'number') });
    const asText = defineTopic(fresh('foreign-bytes'), { schema: schemaOf((v) => v instanceof Uint8Array), defaultContentType: 'application/octet-stream' });
    const seen: Record<string, unknown[]> = { plain: [], json: [], typed: [], asText: [] };
    await broker.consumer(plain, (message) => void seen.plain?.push(message.body));
    await broker.subscriber(plain, `${plain}-json`, (message) => void seen.json?.push(message.body), { defaultContentType: 'application/json' });
    await broker.consumer(typed, (message) => void seen.typed?.push(message.body));
    await broker.consumer(asText, (message) => void seen.asText?.push(message.body));
    // What kcat or redis-cli send: the bytes, and no header saying what they are.
    const foreign = (topic: string): void => broker.native<MemoryBroker>().publish(topic, { id: fresh('m'), key: undefined, headers: {}, body: Buffer.from('{"n":1}') });
    for (const topic of [plain, typed.name, asText.name]) foreign(topic);
    assert.ok(await waitUntil(() => Object.values(seen).every((bodies) => bodies.length === 1), 5_000), JSON.stringify(seen));
    assert.ok(seen.plain?.[0] instanceof Uint8Array);
    assert.deepEqual(seen.json, [{ n: 1 }]);
    assert.deepEqual(seen.typed, [{ n: 1 }]);
    assert.ok(seen.asText?.[0] instanceof Uint8Array);
    await assert.rejects(broker.consumer(plain, () => undefined, { defaultContentType: 'json' }), (e: unknown) => e instanceof ConfigError && e.field === 'options.defaultContentType');
    assert.throws(() => defineTopic('x', { schema: schemaOf(() => true), defaultContentType: '' }), (e: unknown) => e instanceof ConfigError && e.field === 'options.defaultContentType');
  });

  it('a handler that changes the bytes it received changes no other subscription\'s copy', async () => {
    await using broker = await connect('memory://');
    const topic = fresh('shared-bytes');
    const seen: number[][] = [];
    let mutated = false;
    await broker.subscriber(topic, `${topic}-a`, (message) => {
      (message.body as Uint8Array).fill(0);
      mutated = true;
    });
    await broker.ensureSubscription(topic, `${topic}-b`);
    await broker.producer().send(topic, { body: new Uint8Array([1, 2, 3]) });
    assert.ok(await waitUntil(() => mutated, 5_000));
    await broker.subscriber(topic, `${topic}-b`, (message) => void seen.push([...(message.body as Uint8Array)]));
    assert.ok(await waitUntil(() => seen.length === 1, 5_000));
    assert.deepEqual(seen, [[1, 2, 3]]);
  });
});
