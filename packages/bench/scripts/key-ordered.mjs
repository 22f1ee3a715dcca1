// What key order across instances costs a backend (issue 32): the same keyed messages (64
// keys), sent in batches while consumed, with ordering 'none' by one instance, and with
// ordering 'key' by one and by two instances, each phase on a queue of its own, in one run. After `pnpm build`
// (or with node --conditions=development --import tsx instead of node),
// from packages/bench, with the broker's URL:
//   node scripts/key-ordered.mjs amqp://guest:guest@127.0.0.1:5672 [messages]
// Handlers do nothing: the figures are what the path through the broker and brokerkit costs.
/* global setTimeout, clearTimeout, performance */
import { randomBytes } from 'node:crypto';
import { connect, registerDriver } from '@brokerkit/core';
import { driverFactory as kafka } from '@brokerkit/kafka';
import { driverFactory as memory } from '@brokerkit/memory';
import { driverFactory as pubsub } from '@brokerkit/pubsub';
import { driverFactory as rabbitmq } from '@brokerkit/rabbitmq';
import { driverFactory as redis } from '@brokerkit/redis';
import { driverFactory as sqs } from '@brokerkit/sqs';

for (const factory of [kafka, memory, pubsub, rabbitmq, redis, sqs]) registerDriver(factory);
const url = process.argv[2] ?? 'memory://';
const messages = Number(process.argv[3] ?? 20_000);
const KEYS = 64;
const CONCURRENCY = 8;

async function phase(label, ordering, instances) {
  const queue = `bench-key-${randomBytes(4).toString('hex')}`;
  const sender = await connect(url);
  const consumers = [];
  let handled = 0;
  let done;
  const finished = new Promise((resolve) => (done = resolve));
  const perInstance = Array.from({ length: instances }, () => 0);
  // Consumers first, so a key-ordered subscription is declared (partitioned) before the sends.
  for (let index = 0; index < instances; index += 1) {
    const broker = await connect(url);
    const consumer = await broker.consumer(queue, () => {
      perInstance[index] += 1;
      if (++handled === messages) done();
    }, { ordering, concurrency: CONCURRENCY });
    consumers.push({ broker, consumer });
  }
  const producer = sender.producer();
  const started = performance.now();
  for (let sent = 0; sent < messages; sent += 100) {
    await producer.sendBatch(queue, Array.from({ length: Math.min(100, messages - sent) }, (_, i) => ({ key: `k${(sent + i) % KEYS}`, body: { n: sent + i } })));
  }
  const timeout = setTimeout(() => done(), 120_000);
  await finished;
  clearTimeout(timeout);
  const seconds = (performance.now() - started) / 1_000;
  for (const { broker } of consumers) await broker.close();
  await sender.close();
  const rate = handled / seconds;
  const shares = perInstance.map((n) => `${Math.round((100 * n) / Math.max(1, handled))} %`).join(' / ');
  console.log(`${label.padEnd(34)} ${String(Math.round(rate)).padStart(7)} msg/s end to end  (${handled} of ${messages}${instances > 1 ? `; shares ${shares}` : ''})`);
  return rate;
}

console.log(`${url.replace(/\/\/[^@]*@/, '//')}: ${messages} messages over ${KEYS} keys, concurrency ${CONCURRENCY}, sent in batches of 100 while consumed`);
const none = await phase("ordering 'none', 1 instance", 'none', 1);
const one = await phase("ordering 'key', 1 instance", 'key', 1);
const two = await phase("ordering 'key', 2 instances", 'key', 2);
console.log(`ratios to ordering 'none': key × 1 ${(one / none).toFixed(2)}, key × 2 ${(two / none).toFixed(2)}`);
