import { Duration, PubSub, type Message, type Topic } from '@google-cloud/pubsub';
import { randomUUID } from 'node:crypto';
import { METADATA, decode, encode, type BenchBody, type BenchTarget } from '../target.js';

/**
 * @google-cloud/pubsub alone with brokerkit's settings: a subscription with message ordering
 * and a 10 s ack deadline, publisher batching of 1 ms, streaming pull with flow control =
 * concurrency, `ack()` after each handler.
 */
export async function pubsubRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  // With `metadata`, brokerkit's attributes too: its id and the content type.
  const message = metadata
    ? (body: BenchBody) => ({ data: encode(body), attributes: { [METADATA.contentTypeHeader]: METADATA.contentType, [METADATA.idHeader]: randomUUID() } })
    : (body: BenchBody) => ({ data: encode(body) });
  const parsed = new URL(url);
  const emulator = parsed.searchParams.get('emulator');
  const pubsub = new PubSub({ projectId: parsed.hostname, ...(emulator ? { apiEndpoint: emulator, emulatorMode: true, universeDomain: 'googleapis.com' } : {}) });
  const topics = new Map<string, Topic>();
  const topic = (name: string): Topic => {
    let found = topics.get(name);
    if (!found) {
      found = pubsub.topic(name, { batching: { maxMessages: 1_000, maxMilliseconds: 1 } });
      topics.set(name, found);
    }
    return found;
  };
  return {
    setup: async (queue) => {
      await pubsub.topic(queue).create();
      await pubsub.topic(queue).createSubscription(queue, { ackDeadlineSeconds: 10, enableMessageOrdering: true });
    },
    send: async (queue, body) => {
      await topic(queue).publishMessage(message(body));
    },
    sendBatch: async (queue, bodies) => {
      await Promise.all(bodies.map((body) => topic(queue).publishMessage(message(body))));
    },
    cleanup: async (prefix) => {
      const mine = (name: string): boolean => (name.split('/').pop() ?? '').startsWith(prefix);
      const [subscriptions] = await pubsub.getSubscriptions();
      await Promise.all(subscriptions.filter((s) => mine(s.name)).map((s) => s.delete()));
      const [topics] = await pubsub.getTopics();
      await Promise.all(topics.filter((t) => mine(t.name)).map((t) => t.delete()));
    },
    consume: async (queue, concurrency, handler) => {
      const deadline = Duration.from({ seconds: 10 });
      const subscription = pubsub.subscription(queue, { flowControl: { maxMessages: concurrency, allowExcessMessages: false }, minAckDeadline: deadline, maxAckDeadline: deadline, batching: { maxMessages: 1_000, maxMilliseconds: 5 } });
      subscription.on('message', (message: Message) => {
        handler(decode(message.data));
        message.ack();
      });
      return () => subscription.close();
    },
    close: () => pubsub.close(),
  };
}
