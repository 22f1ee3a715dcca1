import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';

const run = promisify(execFile);
/** The `nats` CLI that `scripts/brokers up nats` builds (github.com/nats-io/natscli). */
const natsCli = fileURLToPath(new URL('../.brokers/nats/bin/nats', import.meta.url));

/** The `nats` CLI reads brokerkit's messages, and brokerkit reads the CLI's: a topic's subject is its name. */
describe('nats: interop with the nats CLI', () => {
  const suite = suiteBroker('nats');
  const nats = async (...args: string[]): Promise<string> => (await run(natsCli, ['--server', `nats://${suite.url.host}`, ...args], { timeout: 20_000 })).stdout;
  const unique = (): string => `bk-cli-${randomBytes(4).toString('hex')}`;

  it('nats stream get reads a message brokerkit sent: body intact, headers, id and key as NATS headers', async () => {
    const queue = unique();
    await suite.broker.ensureQueue(queue);
    const { id } = await suite.broker.producer().send(queue, { key: 'customer-7', body: { total: 12.5, note: 'grüße' }, headers: { 'x-trace': 'abc' } });
    const got = JSON.parse(await nats('stream', 'get', queue, '--last-for', queue, '--json')) as { subject: string; hdrs: string; data: string };
    assert.equal(got.subject, queue, 'the subject is the topic name');
    assert.deepEqual(JSON.parse(Buffer.from(got.data, 'base64').toString()), { total: 12.5, note: 'grüße' });
    const headers = Buffer.from(got.hdrs, 'base64').toString();
    assert.match(headers, /^NATS\/1\.0\r\n/);
    for (const line of ['x-trace: abc', 'bk-key: customer-7', `bk-id: ${id}`, 'bk-content-type: application/json']) assert.ok(headers.includes(`${line}\r\n`), `${line} in ${JSON.stringify(headers)}`);
  });

  it('a message published by nats pub --jetstream is consumed with its headers, named by stream and sequence, attempt 1', async () => {
    const queue = unique();
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => void received.push(message));
    await nats('pub', queue, '{"n":1}', '--jetstream', '-H', 'x-origin:nats-cli', '-H', 'bk-content-type:application/json');
    assert.ok(await waitUntil(() => received.length > 0, 10_000), 'the CLI message arrived');
    const [message] = received;
    assert.deepEqual(message?.body, { n: 1 });
    assert.equal(message?.headers['x-origin'], 'nats-cli');
    assert.equal(message?.id, `${queue}/1`, 'without bk-id, the id is <stream>/<sequence>');
    assert.equal(message?.key, undefined);
    assert.equal(message?.attempt, 1);
  });

  it('a message the CLI schedules on the topic (nats pub --schedule-after) reaches brokerkit when due, not before', async () => {
    const queue = unique();
    const received: { message: ReceivedMessage; at: number }[] = [];
    await suite.broker.consumer(queue, (message) => void received.push({ message, at: Date.now() }));
    const sentAt = Date.now();
    // The stream takes <topic>.bk-schedule.* (where brokerkit's own delayed sends wait) with message schedules on.
    await nats('pub', `${queue}.bk-schedule.from-cli`, '{"n":2}', '--schedule-after', '2s', '--schedule-dest', queue, '-H', 'bk-content-type:application/json');
    assert.ok(await waitUntil(() => received.length > 0, 15_000), 'the scheduled message arrived');
    const [first] = received;
    assert.deepEqual(first?.message.body, { n: 2 });
    // The CLI writes the due time to the second (`@at <RFC 3339>`): due 1–2 s after it ran.
    assert.ok((first?.at ?? 0) - sentAt >= 1_000, `arrived ${(first?.at ?? 0) - sentAt} ms after it was scheduled, due after 1–2 s`);
    assert.deepEqual(Object.keys(first?.message.headers ?? {}).filter((name) => name.startsWith('Nats-Schedule')), [], 'the schedule headers are taken off');
  });
});
