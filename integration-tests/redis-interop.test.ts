import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';
import { typedCollector } from './fixtures/typed-collector.js';

const run = promisify(execFile);

/** Other tools see brokerkit's entries as plain stream entries, and brokerkit reads theirs. */
describe('redis interop with redis-cli', () => {
  const suite = suiteBroker('redis');
  const cli = (...args: string[]) => {
    const { url } = suite;
    return run('redis-cli', ['-h', url.hostname, '-p', url.port || '6379', '-n', url.pathname.slice(1) || '0', ...args]);
  };

  it('a message sent by brokerkit reads with XRANGE: plain JSON body, id, key and headers as fields', async () => {
    const stream = `bk-interop-${randomBytes(4).toString('hex')}`;
    await suite.broker.producer().send(stream, { id: 'order-1', key: 'customer-7', body: { total: 12.5 }, headers: { 'x-trace': 'abc' } });
    const { stdout } = await cli('XRANGE', stream, '-', '+');
    const lines = stdout.trim().split('\n');
    const field = (name: string): string | undefined => lines[lines.indexOf(name) + 1];
    assert.equal(field('body'), '{"total":12.5}');
    assert.equal(field('id'), 'order-1');
    assert.equal(field('key'), 'customer-7');
    assert.equal(field('h:x-trace'), 'abc');
    assert.equal(field('h:bk-content-type'), 'application/json');
  });

  it('a message sent without an id has no id field: its receipt names the stream and entry id', async () => {
    const stream = `bk-interop-${randomBytes(4).toString('hex')}`;
    const receipt = await suite.broker.producer().send(stream, { body: { total: 1 } });
    const { stdout } = await cli('XRANGE', stream, '-', '+');
    const [entryId, ...fields] = stdout.trim().split('\n');
    assert.equal(receipt.id, `${stream}/${entryId}`);
    assert.equal(receipt.brokerId, entryId);
    assert.deepEqual(fields, ['body', '{"total":1}', 'h:bk-content-type', 'application/json']);
  });

  it('JSON added by redis-cli without a content type reaches a typed topic parsed, not as bytes', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    await cli('XADD', queue, '*', 'body', '{"n": 1}');
    const bodies = await typedCollector(suite.broker, queue);
    assert.ok(await waitUntil(() => bodies.length > 0, 10_000), 'the typed consumer handled it (a bytes body would fail validation)');
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it('an entry added by redis-cli XADD with just a body field is consumed, attempt 1', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const { stdout: entryId } = await cli('XADD', queue, '*', 'body', 'hello from redis-cli');
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    assert.ok(await waitUntil(() => received.length > 0, 10_000));
    const [message] = received;
    assert.equal(message?.id, `${queue}/${entryId.trim()}`, 'without an id field, the message is named by its stream and entry id');
    assert.equal(message?.attempt, 1);
    assert.ok(message?.body instanceof Uint8Array);
    assert.equal(Buffer.from(message.body).toString(), 'hello from redis-cli');
    assert.equal(message.key, undefined);
  });

  it('a consumer waiting in a blocking XREADGROUP closes at once: the close cuts the read short, it does not wait out the 2 s block', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const received: string[] = [];
    const consumer = await suite.broker.consumer<string>(queue, (message) => {
      received.push(message.body);
    });
    // Several blocking reads in a row, each ended by a message: one abort listener serves them all.
    for (const n of [1, 2, 3]) {
      await suite.broker.producer().send(queue, { body: `m${n}` });
      assert.ok(await waitUntil(() => received.length === n, 10_000), `message ${n} was not delivered`);
    }
    const blocked = async (): Promise<boolean> => {
      const { stdout } = await cli('CLIENT', 'LIST');
      return stdout.split('\n').some((line) => line.includes(`name=brokerkit-${queue} `) && /\bcmd=xreadgroup\b/.test(line) && /\bflags=\S*b/.test(line));
    };
    assert.ok(await waitUntil(blocked, 10_000), 'the consumer never waited in a blocking XREADGROUP');
    const started = performance.now();
    await consumer.close();
    const closeMs = performance.now() - started;
    assert.ok(closeMs < 1_000, `close took ${Math.round(closeMs)} ms: it waited for the block to time out`);
    assert.deepEqual(received, ['m1', 'm2', 'm3']);
  });
});
