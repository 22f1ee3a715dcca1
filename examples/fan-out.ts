// Fan-out: every subscription of a topic gets every message; instances of one subscription
// share its messages.
//   node --import tsx examples/fan-out.ts          (or with BROKER_URL=…)
import { connect } from '@brokerkit/core';

const topic = `order-events${process.env.EXAMPLE_SUFFIX ?? ''}`;
await using broker = await connect(process.env.BROKER_URL ?? 'memory://');

// Declare the subscriptions before the first send: a subscription gets what is published after
// it exists (on Kafka, SNS, Pub/Sub and NATS as on the others).
const got: Record<string, string[]> = { billing: [], shipping: [] };
for (const subscription of ['billing', 'shipping'] as const) {
  await broker.subscriber<{ event: string }>(topic, `${topic}.${subscription}`, (message) => {
    got[subscription]?.push(message.body.event);
  });
}

const events = ['placed', 'paid', 'packed', 'shipped', 'delivered'];
for (const event of events) await broker.producer().send(topic, { key: 'order-1', body: { event } });

const deadline = Date.now() + 30_000;
while (Object.values(got).some((list) => list.length < events.length) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
for (const [subscription, list] of Object.entries(got)) console.log(`${subscription} got: ${list.join(', ')}`);
const complete = Object.values(got).every((list) => [...list].sort().join() === [...events].sort().join());
console.log(complete ? 'done: both subscriptions got every event' : 'NOT DONE');
if (!complete) process.exitCode = 1;
