import { Tally, waitUntil, verdict } from '../measure.js';
import type { Check } from '../types.js';

const PER_PHASE = 20;

export const ephemeralSubscription: Check = {
  id: 'ephemeral',
  title: 'an ephemeral subscriber receives only what is published while attached; durable ones get everything',
  async run(context) {
    if (context.capabilities.ephemeralSubscriptions === 'none') return { status: 'unsupported', reason: 'backend reports no ephemeral subscriptions', figures: {} };
    const broker = await context.open();
    const topic = context.unique('ephemeral');
    const durable = new Tally();
    await broker.subscriber(topic, `${topic}-durable`, async (message) => durable.record(message.id));
    const producer = broker.producer();
    const batch = (phase: string): { id: string; body: { phase: string } }[] =>
      Array.from({ length: PER_PHASE }, (_, i) => ({ id: `${topic}-${phase}-${i}`, body: { phase } }));
    const before = batch('before');
    const during = batch('during');
    const after = batch('after');
    await producer.sendBatch(topic, before);
    await waitUntil(() => durable.hasAll(before.map((m) => m.id)), context.deadline(15_000));
    const ephemeral = new Tally();
    const subscriber = await broker.subscriber(topic, `${topic}-live`, async (message) => ephemeral.record(message.id), { durable: false });
    await producer.sendBatch(topic, during);
    await waitUntil(() => ephemeral.hasAll(during.map((m) => m.id)), context.deadline(15_000));
    await subscriber.close();
    await producer.sendBatch(topic, after);
    const everything = [...before, ...during, ...after].map((m) => m.id);
    await waitUntil(() => durable.hasAll(everything), context.deadline(15_000));
    const outside = ephemeral.unexpected(new Set(during.map((m) => m.id))).length;
    const missedWhileAttached = ephemeral.missingFrom(during.map((m) => m.id)).length;
    const durableMissing = durable.missingFrom(everything).length;
    return verdict({ whileAttached: PER_PHASE, ephemeralReceived: ephemeral.distinct, outsideWindow: outside, missedWhileAttached, durableMissing }, [
      outside > 0 && `${outside} messages from outside the attached window reached the ephemeral subscriber`,
      missedWhileAttached > 0 && `${missedWhileAttached} of ${PER_PHASE} messages published while attached were not received`,
      durableMissing > 0 && `the durable subscriber missed ${durableMissing}`,
    ]);
  },
};
