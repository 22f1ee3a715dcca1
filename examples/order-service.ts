// An order service: a producer, a key-ordered consumer that retries what fails and
// dead-letters what never can succeed, and a consumer of the dead-letter queue.
//   node --import tsx examples/order-service.ts                      (memory://)
//   BROKER_URL=redis://127.0.0.1:6379 node --import tsx examples/order-service.ts
import { connect, Header } from '@brokerkit/core';

interface Order {
  orderId: number;
  customer: string;
  amount: number;
}

const queue = `orders${process.env.EXAMPLE_SUFFIX ?? ''}`;
await using broker = await connect(process.env.BROKER_URL ?? 'memory://');

const charged = new Map<string, number[]>(); // per customer, in the order they were charged
const deadLettered: string[] = [];
let failedOnce = 0;

await broker.consumer<Order>(
  queue,
  async (message, control) => {
    const order = message.body;
    // Poison: no attempt can succeed, so no retries; it goes to `${queue}.dlq` with the reason.
    if (order.amount <= 0) return control.deadLetter(`amount ${order.amount} is not positive`);
    // A transient failure (the payment service timed out): throwing retries with backoff. The
    // customer's later orders wait: ordering 'key' runs a key's messages one at a time, in order.
    if (order.orderId % 5 === 0 && message.attempt === 1) {
      failedOnce += 1;
      throw new Error('payment service timed out');
    }
    charged.set(order.customer, [...(charged.get(order.customer) ?? []), order.orderId]);
  },
  { ordering: 'key', concurrency: 4, retry: { maxAttempts: 3, backoff: { initialMs: 100, maxMs: 1_000 } } },
);

// Whatever reaches the dead-letter queue: here printed; in a service, an alert or a ticket.
await broker.consumer(`${queue}.dlq`, (message) => {
  deadLettered.push(`order ${(message.body as Order).orderId} (${message.headers[Header.deadLetterReason]}): ${message.headers[Header.lastError]}`);
});

const producer = broker.producer();
const orders: Order[] = Array.from({ length: 20 }, (_, n) => ({ orderId: n + 1, customer: `customer-${n % 4}`, amount: n === 6 ? -5 : 10 + n }));
// The key keeps one customer's orders in order, on every backend.
await producer.sendBatch(queue, orders.map((order) => ({ key: order.customer, body: order })));

const deadline = Date.now() + 30_000;
const chargedCount = (): number => [...charged.values()].reduce((sum, ids) => sum + ids.length, 0);
while ((chargedCount() < 19 || deadLettered.length < 1) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));

for (const [customer, ids] of [...charged].sort()) console.log(`${customer}: charged ${ids.join(', ')}`);
console.log(`retried after a failure: ${failedOnce}`);
for (const line of deadLettered) console.log(`dead-lettered ${line}`);
const inOrder = [...charged.values()].every((ids) => ids.every((id, i) => i === 0 || (ids[i - 1] ?? 0) < id));
console.log(chargedCount() === 19 && deadLettered.length === 1 && inOrder ? 'done: 19 charged in order per customer, 1 dead-lettered' : 'NOT DONE');
if (!inOrder || chargedCount() !== 19) process.exitCode = 1;
