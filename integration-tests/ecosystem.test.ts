import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import amqp from 'amqplib';
import { CloudEvent, Kafka as KafkaBinding } from 'cloudevents';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { connect, defineTopic, Header, ValidationError, type Broker, type ReceivedMessage } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { startBrokers } from '@brokerkit/testing';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';

/**
 * Typed topics and CloudEvents on every real broker and memory (trace context has its own
 * conformance check, `trace-context`, run on all of them), and CloudEvents interop with the
 * official CloudEvents SDK's Kafka binding and a plain AMQP client.
 */
const Order = z.object({ orderId: z.number().int().positive(), total: z.number() });
const unique = (label: string): string => `bk-eco-${label}-${randomBytes(4).toString('hex')}`;

describe('typed topics and CloudEvents, every backend', () => {
  const brokers: Record<string, Broker> = {};
  const urls: Record<string, string> = { memory: 'memory://ecosystem' };
  let stop: (() => Promise<void>) | undefined;

  before(async () => {
    const started = await startBrokers([...BACKENDS_UNDER_TEST]);
    stop = started.stop;
    Object.assign(urls, started.urls);
    for (const backend of ['memory', ...BACKENDS_UNDER_TEST]) brokers[backend] = await connect(urls[backend] as string);
  });
  after(async () => {
    await Promise.allSettled(Object.values(brokers).map((b) => b.close()));
    await stop?.();
  });

  for (const backend of ['memory', ...BACKENDS_UNDER_TEST]) {
    it(`${backend}: invalid bodies are refused at send and dead-lettered at receive; the consumer goes on`, { timeout: 120_000 }, async () => {
      const broker = brokers[backend] as Broker;
      const orders = defineTopic(unique('typed'), { schema: Order });
      await broker.ensureQueue(orders);
      const producer = broker.producer();
      await assert.rejects(producer.send(orders, { body: { orderId: -1, total: 3 } }), (e: unknown) => e instanceof ValidationError && e.issues[0]?.path === 'orderId');

      const handled: number[] = [];
      const dead: ReceivedMessage[] = [];
      await broker.consumer(orders, (message) => {
        handled.push(message.body.orderId);
      });
      await broker.consumer(`${orders.name}.dlq`, (message) => {
        dead.push(message);
      });
      // An older producer that does not know the schema sends a bad body, then a good one follows.
      await producer.send(orders.name, { body: { orderId: 'seven', total: 3 } });
      await producer.send(orders, { body: { orderId: 8, total: 3 } });
      assert.ok(await waitUntil(() => dead.length === 1 && handled.length === 1, 60_000), `dead ${dead.length}, handled ${handled.length}`);
      assert.deepEqual(handled, [8]);
      assert.equal(dead[0]?.headers[Header.deadLetterReason], 'validation-error');
      assert.match(dead[0]?.headers[Header.lastError] ?? '', /orderId: /);
      assert.deepEqual(dead[0]?.body, { orderId: 'seven', total: 3 }, 'the DLQ keeps the body as it arrived');
    });

    it(`${backend}: a message sent as a CloudEvent arrives with its attributes`, { timeout: 120_000 }, async () => {
      const broker = brokers[backend] as Broker;
      const queue = unique('ce');
      await broker.ensureQueue(queue);
      const received: ReceivedMessage[] = [];
      await broker.consumer(queue, (message) => {
        received.push(message);
      });
      const producer = broker.producer({ cloudEvents: { source: '/integration-tests', extensions: { tenant: 'acme' } } });
      const { id } = await producer.send(queue, { body: { orderId: 1 }, cloudEvent: { type: 'com.example.order.placed', subject: 'order-1' } });
      assert.ok(await waitUntil(() => received.length === 1, 60_000));
      const event = received[0]?.cloudEvent;
      assert.deepEqual({ ...event, time: undefined }, {
        id,
        source: '/integration-tests',
        type: 'com.example.order.placed',
        specversion: '1.0',
        subject: 'order-1',
        datacontenttype: 'application/json',
        extensions: { tenant: 'acme' },
        time: undefined,
      });
      assert.ok(!Number.isNaN(Date.parse(event?.time ?? '')), 'time is an RFC 3339 timestamp');
      assert.deepEqual(received[0]?.body, { orderId: 1 });
    });
  }

  it('kafka: the CloudEvents SDK reads what brokerkit sent, and brokerkit reads what the SDK sent', { timeout: 120_000 }, async () => {
    const broker = brokers.kafka as Broker;
    const kafka = new Kafka({ brokers: [new URL(urls.kafka as string).host], logLevel: logLevel.NOTHING });
    const topic = unique('ce-kafka');
    await broker.ensureQueue(topic);

    // brokerkit → SDK
    const { id } = await broker.producer({ cloudEvents: { source: '/brokerkit' } }).send(topic, { key: 'k1', body: { n: 1 }, cloudEvent: { type: 'com.example.sent' } });
    const consumer = kafka.consumer({ groupId: unique('raw') });
    const seen: CloudEvent<unknown>[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push(KafkaBinding.toEvent({ key: message.key?.toString() ?? '', value: message.value?.toString() ?? '', headers, body: message.value?.toString() ?? '', timestamp: message.timestamp } as Parameters<typeof KafkaBinding.toEvent>[0]) as CloudEvent<unknown>);
      },
    });
    try {
      assert.ok(await waitUntil(() => seen.length === 1, 60_000), 'the raw consumer saw the message');
      assert.equal(seen[0]?.id, id);
      assert.equal(seen[0]?.type, 'com.example.sent');
      assert.equal(seen[0]?.source, '/brokerkit');
      assert.equal(seen[0]?.datacontenttype, 'application/json');
      assert.deepEqual(seen[0]?.data, { n: 1 });
    } finally {
      await consumer.disconnect();
    }

    // SDK → brokerkit: a binary-mode Kafka message with no brokerkit headers at all.
    const foreign = unique('ce-foreign');
    await broker.ensureQueue(foreign);
    const received: ReceivedMessage[] = [];
    await broker.consumer(foreign, (message) => {
      received.push(message);
    });
    const event = new CloudEvent({ type: 'com.example.from-sdk', source: '/sdk', datacontenttype: 'application/json', data: { n: 2 }, partitionkey: 'p1' });
    const wire = KafkaBinding.binary(event);
    const producer = kafka.producer();
    await producer.connect();
    // The SDK leaves serializing structured data to the transport: JSON, as its content type says.
    const value = typeof wire.value === 'string' || Buffer.isBuffer(wire.value) ? wire.value : JSON.stringify(wire.value);
    await producer.send({ topic: foreign, messages: [{ key: 'p1', value, headers: definedOnly(wire.headers) }] });
    await producer.disconnect();
    assert.ok(await waitUntil(() => received.length === 1, 60_000));
    assert.equal(received[0]?.cloudEvent?.id, event.id);
    assert.equal(received[0]?.cloudEvent?.type, 'com.example.from-sdk');
    assert.equal(received[0]?.cloudEvent?.extensions.partitionkey, 'p1');
    assert.deepEqual(received[0]?.body, { n: 2 }, 'decoded as JSON from the CloudEvent content type');
  });

  it('rabbitmq: a plain AMQP client sees the AMQP binding (cloudEvents: headers, content-type property)', { timeout: 60_000 }, async () => {
    const broker = brokers.rabbitmq as Broker;
    const queue = unique('ce-amqp');
    await broker.ensureQueue(queue);
    const { id } = await broker.producer({ cloudEvents: { source: '/brokerkit' } }).send(queue, { body: { n: 1 }, cloudEvent: { type: 'com.example.sent' } });
    const connection = await amqp.connect(urls.rabbitmq as string);
    try {
      const channel = await connection.createChannel();
      let got: amqp.GetMessage | false = false;
      for (let i = 0; i < 100 && got === false; i += 1) {
        got = await channel.get(queue, { noAck: true });
        if (got === false) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(got, 'the plain client got the message');
      const headers = got.properties.headers ?? {};
      assert.equal(String(headers['cloudEvents:id']), id);
      assert.equal(String(headers['cloudEvents:type']), 'com.example.sent');
      assert.equal(String(headers['cloudEvents:specversion']), '1.0');
      assert.equal(got.properties.contentType, 'application/json');
    } finally {
      await connection.close();
    }
  });
});

/** The SDK lists unset attributes as undefined headers; Kafka clients take only set ones. */
function definedOnly(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => value !== undefined).map(([name, value]) => [name, String(value)]));
}
