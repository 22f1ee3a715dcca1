import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import type { ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { startConsumerProcess } from './fixtures/consumer-process.js';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';
import { typedCollector } from './fixtures/typed-collector.js';

const run = promisify(execFile);
const hasKcat = await run('kcat', ['-V']).then(() => true, () => false);

describe('kafka: interop with kcat, SIGKILL mid-batch', () => {
  const suite = suiteBroker('kafka');
  /** kcat produces what `input` holds, a record a line. */
  const kcatProduce = (topic: string, input: string, args: string[] = []): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const kcat = spawn('kcat', ['-b', suite.url.host, '-P', '-t', topic, ...args], { stdio: ['pipe', 'inherit', 'inherit'] });
      kcat.on('error', reject);
      kcat.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kcat exited ${code}`))));
      kcat.stdin.end(input);
    });

  it('kcat reads a message sent by brokerkit: key, headers and body intact; the topic has 6 partitions', { skip: hasKcat ? false : 'kcat is not installed (./scripts/test installs it)' }, async () => {
    const topic = `bk-kcat-${randomBytes(4).toString('hex')}`;
    // Non-ASCII and over 63 bytes: the header encoder's two-byte lengths, read by another client.
    const note = `ünïcode ${'é'.repeat(100)}`;
    await suite.broker.ensureQueue(topic);
    await suite.broker.producer().send(topic, { id: 'order-1', key: 'customer-7', body: { total: 12.5 }, headers: { 'x-trace': 'abc', 'x-note': note } });
    const { stdout } = await run('kcat', ['-b', suite.url.host, '-C', '-t', topic, '-o', 'beginning', '-c', '1', '-e', '-q', '-f', '%k\n%h\n%s\n'], { timeout: 30_000 });
    const [key, headers, body] = stdout.split('\n');
    assert.equal(key, 'customer-7');
    const headerMap = Object.fromEntries((headers ?? '').split(',').map((pair) => pair.split('=') as [string, string]));
    assert.equal(headerMap['x-trace'], 'abc');
    assert.equal(headerMap['x-note'], note);
    assert.equal(headerMap['bk-id'], 'order-1');
    assert.equal(headerMap['bk-content-type'], 'application/json');
    assert.deepEqual(JSON.parse(body ?? ''), { total: 12.5 });
    const metadata = (await run('kcat', ['-b', suite.url.host, '-L', '-t', topic], { timeout: 30_000 })).stdout;
    assert.match(metadata, /with 6 partitions/);
    // What kcat read was written by brokerkit's record and header encoders, not kafkajs' own.
    const require = createRequire(import.meta.url);
    const encoder = require('kafkajs/src/protocol/recordBatch/record/v0') as { [key: symbol]: unknown };
    assert.equal(encoder[Symbol.for('brokerkit.kafkajs-record-encoder')], true, "kafkajs' record encoder was not replaced");
  });

  it('a message sent without an id carries no bk-id: its receipt names its partition and offset, as kcat reads them', { skip: hasKcat ? false : 'kcat is not installed' }, async () => {
    const topic = `bk-kcat-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(topic);
    const receipts = await suite.broker.producer().sendBatch(topic, [{ body: { n: 1 } }, { body: { n: 2 } }, { body: { n: 3 } }]);
    const { stdout } = await run('kcat', ['-b', suite.url.host, '-C', '-t', topic, '-o', 'beginning', '-c', '3', '-e', '-q', '-f', '%p/%o %h|%s\n'], { timeout: 30_000 });
    const seen = new Map(stdout.trim().split('\n').map((line) => {
      const [position, rest] = line.split(' ') as [string, string];
      return [`${topic}/${position}`, rest];
    }));
    for (const [index, receipt] of receipts.entries()) {
      assert.equal(receipt.brokerId, receipt.id);
      const record = seen.get(receipt.id);
      assert.ok(record !== undefined, `kcat has no record at ${receipt.id} (it read ${[...seen.keys()].join(', ')})`);
      assert.equal(record, `bk-content-type=application/json|{"n":${index + 1}}`, 'no bk-id header, the body as sent');
    }
  });

  it('JSON produced by kcat without a content type reaches a typed topic parsed, not as bytes', { skip: hasKcat ? false : 'kcat is not installed' }, async () => {
    const topic = `bk-kcat-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(topic);
    const bodies = await typedCollector(suite.broker, topic);
    await kcatProduce(topic, '{"n": 1}\n');
    assert.ok(await waitUntil(() => bodies.length > 0, 30_000), 'the typed consumer handled it (a bytes body would fail validation)');
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it('a message produced by kcat is consumed with its key and headers', { skip: hasKcat ? false : 'kcat is not installed' }, async () => {
    const topic = `bk-kcat-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(topic);
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(topic, (message) => {
      received.push(message);
    });
    await kcatProduce(topic, 'k-1|{"n": 1}\n', ['-K', '|', '-H', 'origin=kcat']);
    assert.ok(await waitUntil(() => received.length > 0, 30_000), 'brokerkit received it');
    const [message] = received;
    assert.equal(message?.key, 'k-1');
    assert.equal(message?.headers.origin, 'kcat');
    assert.equal(Buffer.from(message?.body as Uint8Array).toString(), '{"n": 1}');
    assert.equal(message?.attempt, 1);
    assert.ok(Math.abs((message?.publishedAt.getTime() ?? 0) - Date.now()) < 60_000, `kcat's create time, read as ${message?.publishedAt.toISOString()}`);
    // Read by brokerkit's record decoder in kafkajs' place, not kafkajs' own.
    const decoder = createRequire(import.meta.url)('kafkajs/src/protocol/recordBatch/record/v0/decoder') as { [key: symbol]: unknown };
    assert.equal(decoder[Symbol.for('brokerkit.kafkajs-record-decoder')], true, "kafkajs' record decoder was not replaced");
  });

  it('a topic deleted after the producer wrote to it does not fail its sends to other topics', async () => {
    const gone = `bk-deleted-${randomBytes(4).toString('hex')}`;
    const next = `bk-after-delete-${randomBytes(4).toString('hex')}`;
    const producer = suite.broker.producer();
    await suite.broker.ensureQueue(gone);
    await producer.send(gone, { body: { n: 1 } });
    const { admin } = suite.broker.native() as { admin: { deleteTopics(request: { topics: string[] }): Promise<void> } };
    await admin.deleteTopics({ topics: [gone] });
    await suite.broker.ensureQueue(next);
    // kafkajs alone failed this send: "This server does not host this topic-partition" (for the deleted topic).
    const receipt = await producer.send(next, { body: { n: 2 } });
    assert.match(receipt.id, new RegExp(`^${next}/\\d+/0$`));
  });

  it('SIGKILL of a consumer mid-batch: unfinished messages go to another member, nothing lost, duplicates counted', async () => {
    const queue = `bk-kill-${randomBytes(4).toString('hex')}`;
    const total = 400;
    await suite.broker.ensureQueue(queue);
    const child = await startConsumerProcess('slow-consumer', [suite.url.toString(), queue, '20', '8'], (id) => id);
    after(() => child.kill());
    const sent = await suite.broker.producer().sendBatch(queue, Array.from({ length: total }, (_, n) => ({ key: `k${n % 16}`, body: { n } })));
    assert.ok(await waitUntil(() => child.seen.length >= 60, 30_000), 'the consumer process finished some');
    child.kill();
    const killedAfter = child.seen.length;

    const survivor: string[] = [];
    await suite.broker.consumer(queue, (message) => {
      survivor.push(message.id);
    }, { concurrency: 8 });
    const all = new Set(sent.map((receipt) => receipt.id));
    // Lines the killed process wrote just before dying may still arrive: read its set late.
    const finishedByChild = new Set(child.seen);
    const handled = (): Set<string> => new Set([...finishedByChild, ...survivor]);
    assert.ok(await waitUntil(() => handled().size >= total, 60_000), `every message handled at least once (${handled().size}/${total})`);
    for (const id of all) assert.ok(handled().has(id), `message ${id} lost`);
    const unfinished = [...all].filter((id) => !finishedByChild.has(id));
    for (const id of unfinished) assert.ok(survivor.includes(id), `unfinished ${id} was not redelivered`);
    const duplicates = survivor.filter((id) => finishedByChild.has(id)).length;
    process.stdout.write(`kafka SIGKILL mid-batch: ${total} sent, ${killedAfter} finished before the kill, ${survivor.length} handled after, ${duplicates} duplicates\n`);
  });
});
