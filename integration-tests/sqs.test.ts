import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { connect, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { awsName } from '@brokerkit/sqs';
import { startHangingConsumer } from './fixtures/consumer-process.js';
import './fixtures/register.js';
import { suiteBroker } from './fixtures/suite-broker.js';
import { typedCollector } from './fixtures/typed-collector.js';

const run = promisify(execFile);
/** boto3 comes with the moto server scripts/brokers installs: an AWS client independent of ours. */
const python = fileURLToPath(new URL('../.brokers/sqs/venv/bin/python', import.meta.url));

const BOTO = `
import json, sys, boto3
endpoint, action, queue = sys.argv[1], sys.argv[2], sys.argv[3]
sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
if action == "expired-group":
    url = sqs.create_queue(QueueName=queue, Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"})["QueueUrl"]
else:
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
if action == "expired-group":
    # Three messages of one group received together, left to expire, received again.
    import time
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}", MessageGroupId="g")
    sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=1)
    time.sleep(1.3)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=30).get("Messages", [])
    locked = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=30).get("Messages", [])
    print(json.dumps({"again": [m["Body"] for m in again], "locked": [m["Body"] for m in locked]}))
elif action == "receive":
    reply = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], WaitTimeSeconds=5)
    m = reply["Messages"][0]
    print(json.dumps({"body": m["Body"], "attributes": {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}}))
elif action == "send-ten":
    # SQS's limit: ten attributes on one message.
    attributes = {f"a{i}": {"DataType": "String", "StringValue": f"v{i}"} for i in range(10)}
    sqs.send_message(QueueUrl=url, MessageBody="plain text", MessageAttributes=attributes)
elif action == "is-fifo":
    print(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["FifoQueue"])["Attributes"].get("FifoQueue", "false"))
else:
    sqs.send_message(QueueUrl=url, MessageBody='{"n": 1}', MessageAttributes={"origin": {"DataType": "String", "StringValue": "boto3"}})
`;

describe('sqs: interop with boto3, attribute limits, redrive, FIFO', { skip: existsSync(python) ? false : 'boto3 (from the moto install of scripts/brokers) is not here' }, () => {
  const suite = suiteBroker('sqs');
  const boto = async (action: string, queue: string, fifo = false): Promise<string> => (await run(python, ['-c', BOTO, `http://${suite.url.host}`, action, awsName(queue, fifo)])).stdout;

  it('boto3 receives a message sent by brokerkit, body and attributes intact', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    await suite.broker.ensureQueue(queue);
    await suite.broker.producer().send(queue, { id: 'order-1', key: 'customer-7', body: { total: 12.5 }, headers: { 'x-trace': 'abc' } });
    const got = JSON.parse(await boto('receive', queue)) as { body: string; attributes: Record<string, string> };
    assert.deepEqual(JSON.parse(got.body), { total: 12.5 });
    assert.equal(got.attributes['bk-id'], 'order-1');
    assert.equal(got.attributes['bk-key'], 'customer-7');
    assert.equal(got.attributes['bk-content-type'], 'application/json');
    assert.deepEqual(JSON.parse(got.attributes['bk-headers'] ?? '{}'), { 'x-trace': 'abc' });
  });

  it('a message sent by boto3 is consumed with its attributes as headers, attempt 1', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    await boto('send', queue);
    assert.ok(await waitUntil(() => received.length > 0, 15_000));
    const [message] = received;
    assert.ok(message?.body instanceof Uint8Array, 'no content type: the body arrives as bytes');
    assert.equal(Buffer.from(message.body).toString(), '{"n": 1}');
    assert.equal(message.headers.origin, 'boto3');
    assert.equal(message.attempt, 1);
  });
  it('JSON sent by boto3 without a content type reaches a typed topic parsed, not as bytes', async () => {
    const queue = `bk-interop-${randomBytes(4).toString('hex')}`;
    const bodies = await typedCollector(suite.broker, queue);
    await boto('send', queue);
    assert.ok(await waitUntil(() => bodies.length > 0, 15_000), 'the typed consumer handled it (a bytes body would fail validation)');
    assert.deepEqual(bodies, [{ n: 1 }]);
  });

  it('more headers than SQS has attributes for round-trip, packed into one attribute', async () => {
    const queue = `bk-headers-${randomBytes(4).toString('hex')}`;
    const headers = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`x-h${i}`, `value ${i}`]));
    await suite.broker.ensureQueue(queue);
    await suite.broker.producer().send(queue, { body: 'many headers', headers });
    const onWire = JSON.parse(await boto('receive', queue)) as { attributes: Record<string, string> };
    assert.ok(Object.keys(onWire.attributes).length <= 10, `at most 10 attributes on the wire, saw ${Object.keys(onWire.attributes).length}`);

    // boto3 holds that one for its visibility timeout: the brokerkit side reads a fresh queue.
    const second = `bk-headers-${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(second, (message) => {
      received.push(message);
    });
    await suite.broker.producer().send(second, { body: 'many headers', headers });
    assert.ok(await waitUntil(() => received.length > 0, 15_000));
    for (const [name, value] of Object.entries(headers)) assert.equal(received[0]?.headers[name], value, name);
  });

  it('a message with ten attributes from boto3 arrives with all ten as headers', async () => {
    const queue = `bk-ten-${randomBytes(4).toString('hex')}`;
    const received: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      received.push(message);
    });
    await boto('send-ten', queue);
    assert.ok(await waitUntil(() => received.length > 0, 15_000));
    for (let i = 0; i < 10; i += 1) assert.equal(received[0]?.headers[`a${i}`], `v${i}`);
  });

  it('a consumer that crashes on every delivery: after maxAttempts the message goes to the DLQ, never to a handler again', async () => {
    const queue = `bk-redrive-${randomBytes(4).toString('hex')}`;
    const maxAttempts = 3;
    const ackTimeoutMs = 1_000;
    await suite.broker.ensureQueue(queue);
    let id = '';
    for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
      const child = await startHangingConsumer(suite.url.toString(), queue, ackTimeoutMs, maxAttempts);
      try {
        if (attempt === 1) id = (await suite.broker.producer().send(queue, { body: { job: 'crash every time' } })).id;
        assert.ok(await waitUntil(() => child.seen.length > 0, 30_000), `crashing consumer ${attempt} received the message`);
        assert.deepEqual(child.seen[0], { id, attempt });
      } finally {
        child.kill();
      }
    }
    // A live consumer of the queue polls it: core dead-letters the next delivery (attempt 4) unhandled;
    // the native redrive policy would move it one delivery later.
    const handled: ReceivedMessage[] = [];
    const deadLettered: ReceivedMessage[] = [];
    await suite.broker.consumer(queue, (message) => {
      handled.push(message);
    }, { ackTimeoutMs, retry: { maxAttempts } });
    await suite.broker.consumer(`${queue}.dlq`, (message) => {
      deadLettered.push(message);
    });
    assert.ok(await waitUntil(() => deadLettered.length > 0, 30_000), 'the message reached the DLQ');
    assert.equal(deadLettered[0]?.id, id);
    assert.deepEqual(handled, [], 'no fourth delivery to a handler');
  });

  it('FIFO on the moto server: a group whose messages all expired comes back in order, and is locked again while they are out', async () => {
    // What scripts/brokers.d/sqs/server.py fixes in moto 5.2.5 (which hands out the last first).
    const queue = `bk-expired-${randomBytes(4).toString('hex')}`;
    const got = JSON.parse(await boto('expired-group', queue, true)) as { again: string[]; locked: string[] };
    assert.deepEqual(got, { again: ['m0', 'm1', 'm2'], locked: [] });
  });

  it("FIFO: ordering 'key' keeps each key's order across three consumer instances", async () => {
    const topic = `bk-fifo-${randomBytes(4).toString('hex')}`;
    const subscription = `${topic}-workers`;
    const keys = ['a', 'b', 'c', 'd'];
    const perKey = 20;
    const seen = new Map<string, number[]>(keys.map((key) => [key, []]));
    const byInstance = [0, 0, 0];
    const instances = await Promise.all([0, 1, 2].map(() => connect(suite.url.toString())));
    after(() => Promise.all(instances.map((instance) => instance.close())));
    await Promise.all(
      instances.map((instance, index) =>
        instance.subscriber<{ n: number }>(topic, subscription, async (message) => {
          byInstance[index] = (byInstance[index] ?? 0) + 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
          seen.get(message.key as string)?.push(message.body.n);
        }, { ordering: 'key', concurrency: 4 }),
      ),
    );
    assert.equal((await boto('is-fifo', subscription, true)).trim(), 'true', 'the subscription is a FIFO queue');
    const producer = suite.broker.producer();
    for (let n = 0; n < perKey; n += 5) {
      await producer.sendBatch(topic, keys.flatMap((key) => [0, 1, 2, 3, 4].map((i) => ({ key, body: { n: n + i } }))));
    }
    assert.ok(await waitUntil(() => [...seen.values()].every((list) => list.length >= perKey), 60_000), 'every message arrived');
    for (const [key, list] of seen) assert.deepEqual(list, Array.from({ length: perKey }, (_, n) => n), `key ${key} in order`);
    assert.ok(byInstance.filter((count) => count > 0).length >= 2, `work spread over instances: ${byInstance.join('/')}`);
  });

  it("FIFO: a key-ordered subscriber declared in another process gets a send made right after its declaration returns", async () => {
    const topic = `bk-fifo-late-${randomBytes(4).toString('hex')}`;
    const producer = suite.broker.producer();
    // The producing process learns there is no FIFO twin of this topic yet.
    await producer.send(topic, { key: 'k', body: { n: 0 } });
    const other = await connect(suite.url.toString());
    after(() => other.close());
    const received: number[] = [];
    await other.subscriber<{ n: number }>(topic, `${topic}-ordered`, (message) => {
      received.push(message.body.n);
    }, { ordering: 'key' });
    await producer.send(topic, { key: 'k', body: { n: 1 } });
    assert.ok(await waitUntil(() => received.includes(1), 20_000), `the send after the declaration arrived (received ${JSON.stringify(received)})`);
    assert.ok(!received.includes(0), 'the send before the subscription existed did not');
  });
});
