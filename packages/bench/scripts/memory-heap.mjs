// Heap of the memory broker at rest, with 1 000 000 messages queued, and after draining them
// (issue 30: within 10 % of the empty broker's). After `pnpm build`, from packages/bench:
//   node --expose-gc scripts/memory-heap.mjs
// Figures are heapUsed after three full collections; the leftover is what a drained
// subscription and its consumer keep.
/* global gc, setTimeout */
import { connect, registerDriver } from '@brokerkit/core';
import { driverFactory } from '@brokerkit/memory';
registerDriver(driverFactory);
const N = 1_000_000;
const broker = await connect('memory://');
const producer = broker.producer();
await broker.ensureQueue('q');
const heap = async () => { for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); } return process.memoryUsage().heapUsed; };
await producer.sendBatch('q', [{ body: { x: 1 } }]);
let n = 0; let done; let p = new Promise((r) => (done = r));
let consumer = await broker.consumer('q', () => { if (++n === 1) done(); }, { concurrency: 16 });
await p; await consumer.close();
const empty = await heap();
const body = { id: 0, pad: 'x'.repeat(200) };
for (let i = 0; i < N / 100; i++) await producer.sendBatch('q', Array.from({ length: 100 }, (_, j) => ({ body: { ...body, id: j } })));
const full = await heap();
n = 0; p = new Promise((r) => (done = r));
consumer = await broker.consumer('q', () => { if (++n === N) done(); }, { concurrency: 16 });
await p; await consumer.close();
const drained = await heap();
const mib = (b) => (b / 1048576).toFixed(1) + ' MiB';
console.log('empty', mib(empty), 'with 1M queued', mib(full), 'drained', mib(drained), `(+${((drained / empty - 1) * 100).toFixed(1)} %)`);
await broker.close();
