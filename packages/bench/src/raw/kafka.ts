import { randomBytes } from 'node:crypto';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { METADATA, decode, encode, type BenchBody, type BenchTarget } from '../target.js';

/**
 * kafkajs alone, with brokerkit's settings: 6-partition topics, idempotent producer with
 * acks=all and one request in flight; a consumer group reading 4 partitions at once, fetching
 * as brokerkit's does (512 KiB per partition, 250 ms wait), with kafkajs' own commits after each
 * batch. Records carry no headers, what a plain kafkajs user sends; with `metadata`, the
 * content type header brokerkit writes (its ids are the record positions: nothing to send).
 */
export async function kafkaRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  const headers = { [METADATA.contentTypeHeader]: METADATA.contentType };
  const record = metadata ? (body: BenchBody) => ({ value: encode(body), headers }) : (body: BenchBody) => ({ value: encode(body) });
  const { host } = new URL(url);
  const kafka = new Kafka({ clientId: 'brokerkit-bench-raw', brokers: [host], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await Promise.all([admin.connect(), producer.connect()]);
  return {
    setup: async (queue) => {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: queue, numPartitions: 6 }] });
    },
    send: async (queue, body) => {
      await producer.send({ topic: queue, acks: -1, messages: [record(body)] });
    },
    sendBatch: async (queue, bodies) => {
      await producer.send({ topic: queue, acks: -1, messages: bodies.map(record) });
    },
    cleanup: async (prefix) => {
      const topics = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
      const { groups } = await admin.listGroups();
      const mine = groups.map((group) => group.groupId).filter((id) => id.startsWith(prefix));
      if (mine.length > 0) await admin.deleteGroups(mine);
      if (topics.length > 0) await admin.deleteTopics({ topics });
    },
    consume: async (queue, concurrency, handler) => {
      const consumer = kafka.consumer({ groupId: `${queue}-raw-${randomBytes(3).toString('hex')}`, maxWaitTimeInMs: 250, maxBytesPerPartition: 512 * 1024, heartbeatInterval: 1_000 });
      await consumer.connect();
      await consumer.subscribe({ topics: [queue], fromBeginning: true });
      await consumer.run({
        partitionsConsumedConcurrently: Math.min(4, concurrency),
        eachMessage: async ({ message }) => {
          handler(decode(message.value ?? Buffer.alloc(0)));
        },
      });
      return () => consumer.disconnect();
    },
    close: async () => {
      await Promise.all([producer.disconnect(), admin.disconnect()]);
    },
  };
}
