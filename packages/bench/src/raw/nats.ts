import { randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, nanos } from '@nats-io/transport-node';
import { METADATA, decode, encode, type BenchBody, type BenchTarget } from '../target.js';

/**
 * The official NATS clients alone, with brokerkit's settings: a stream per queue (limits
 * retention, file storage), a durable pull consumer with explicit acks, `consume()` with
 * max_messages = concurrency, a double ack after each handler; batches published at once, each
 * awaiting its PubAck. Queue names here have no dots, so they serve as stream, consumer and
 * subject names alike. With `metadata`, brokerkit's headers too: its content type and an id.
 */
export async function natsRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  const parsed = new URL(url);
  const nc = await connect({ servers: `${parsed.hostname}:${parsed.port || 4222}` });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const options = (): { headers?: ReturnType<typeof headers> } => {
    if (!metadata) return {};
    const h = headers();
    h.set(METADATA.contentTypeHeader, METADATA.contentType);
    h.set(METADATA.idHeader, randomUUID());
    return { headers: h };
  };
  const publish = (queue: string, body: BenchBody) => js.publish(queue, encode(body), options());
  return {
    setup: async (queue) => {
      await jsm.streams.add({ name: queue, subjects: [queue] });
      await jsm.consumers.add(queue, { durable_name: queue, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, ack_wait: nanos(30_000), max_ack_pending: 10_000 });
    },
    send: async (queue, body) => {
      await publish(queue, body);
    },
    sendBatch: async (queue, bodies) => {
      await Promise.all(bodies.map((body) => publish(queue, body)));
    },
    cleanup: async (prefix) => {
      for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) await jsm.streams.delete(name).catch(() => undefined);
    },
    consume: async (queue, concurrency, handler) => {
      const consumer = await js.consumers.get(queue, queue);
      const messages = await consumer.consume({ max_messages: concurrency });
      const loop = (async () => {
        const inFlight = new Set<Promise<unknown>>();
        for await (const msg of messages) {
          handler(decode(msg.data));
          const acked = msg.ackAck().finally(() => inFlight.delete(acked));
          inFlight.add(acked);
          if (inFlight.size >= concurrency) await Promise.race(inFlight);
        }
        await Promise.all(inFlight);
      })();
      return async () => {
        await messages.close();
        await loop.catch(() => undefined);
      };
    },
    close: () => nc.drain(),
  };
}
