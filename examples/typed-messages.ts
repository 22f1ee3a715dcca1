// Typed messages with zod: the schema checks what is sent (nothing invalid leaves) and types
// what is received (its output: here a Date); a received body that fails it is dead-lettered.
//   node --import tsx examples/typed-messages.ts    (or with BROKER_URL=…)
import { connect, defineTopic, ValidationError } from '@brokerkit/core';
import { z } from 'zod';

const orders = defineTopic(`typed-orders${process.env.EXAMPLE_SUFFIX ?? ''}`, {
  schema: z.object({
    orderId: z.number().int().positive(),
    placedAt: z.iso.datetime().transform((text) => new Date(text)),
  }),
});

await using broker = await connect(process.env.BROKER_URL ?? 'memory://');
const received: string[] = [];
await broker.consumer(orders, (message) => {
  // Inferred from the schema's output: placedAt is a Date.
  received.push(`order ${message.body.orderId} placed on ${message.body.placedAt.toISOString().slice(0, 10)}`);
});

const producer = broker.producer();
await producer.send(orders, { body: { orderId: 1, placedAt: '2026-11-24T10:00:00Z' } });
try {
  // @ts-expect-error orderId must be a number: a compile error, and at run time a ValidationError
  await producer.send(orders, { body: { orderId: 'x', placedAt: 'yesterday' } });
} catch (error) {
  if (!(error instanceof ValidationError)) throw error;
  console.log(`refused at send: ${error.message}`);
}

const deadline = Date.now() + 30_000;
while (received.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
for (const line of received) console.log(`received ${line}`);
console.log(received.length === 1 ? 'done: one valid order through, the invalid one refused' : 'NOT DONE');
if (received.length !== 1) process.exitCode = 1;
