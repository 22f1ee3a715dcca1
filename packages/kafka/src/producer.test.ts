import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Kafka, PartitionMetadata, Producer } from 'kafkajs';
import { SendError } from '@brokerkit/core';
import { PARTITION, RenewingProducer, positionsOf, stablePartitioner, type PlacedRecord } from './producer.js';

const partitionMetadata: PartitionMetadata[] = Array.from({ length: 6 }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));

describe('stablePartitioner', () => {
  it('sends every try of a keyless message to one partition (kafkajs re-partitions on retry)', () => {
    const partition = stablePartitioner();
    const message = { value: 'x', headers: { 'bk-id': 'order-17' } };
    const tries = Array.from({ length: 10 }, () => partition({ topic: 't', partitionMetadata, message }));
    assert.equal(new Set(tries).size, 1, `tries went to ${tries.join(',')}`);
  });

  it('spreads keyless messages round-robin and keeps key hashing for keyed ones', () => {
    const partition = stablePartitioner();
    const counts = new Map<number, number>();
    for (let i = 0; i < 60; i += 1) {
      const chosen = partition({ topic: 't', partitionMetadata, message: { value: 'x', headers: { 'bk-id': `m-${i}` } } });
      counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [10, 10, 10, 10, 10, 10], 'every partition gets its share');
    const keyed = (key: string, id: string): number => partition({ topic: 't', partitionMetadata, message: { key, value: 'x', headers: { 'bk-id': id } } });
    assert.equal(keyed('customer-7', 'a'), keyed('customer-7', 'b'), 'the key decides, not the id');
  });
});

describe('positionsOf', () => {
  const reply = (partition: number, baseOffset: string) => ({ topicName: 't', partition, errorCode: 0, baseOffset });
  const placed = (partition: number): PlacedRecord => ({ value: 'x', [PARTITION]: partition });

  it("numbers each partition's records from the offset the reply names, in the order sent", () => {
    const records = [placed(2), placed(0), placed(2), placed(2), placed(0)];
    assert.deepEqual(positionsOf('t', records, [reply(0, '7'), reply(2, '40')]), ['t/2/40', 't/0/7', 't/2/41', 't/2/42', 't/0/8']);
  });

  it('counts exactly past 2^53', () => {
    assert.deepEqual(positionsOf('t', [placed(1), placed(1)], [reply(1, '9007199254740992')]), ['t/1/9007199254740992', 't/1/9007199254740993']);
  });

  it('refuses to name records the reply says nothing of (and does not call that retriable: Kafka has them)', () => {
    assert.throws(
      () => positionsOf('t', [placed(3)], [reply(0, '1')]),
      (error: unknown) => error instanceof SendError && !error.retriable && /partition 3/.test(error.message),
    );
  });

  it('reads the partition the partitioner wrote on the record', () => {
    const partition = stablePartitioner();
    const records: PlacedRecord[] = [{ value: 'a' }, { value: 'b' }, { key: 'k', value: 'c' }];
    const chosen = records.map((message) => partition({ topic: 't', partitionMetadata, message }));
    assert.deepEqual(records.map((record) => record[PARTITION]), chosen);
    const keyed = records[2] as PlacedRecord;
    assert.equal(partition({ topic: 't', partitionMetadata: partitionMetadata.slice(0, 1), message: keyed }), chosen[2], 'a retry keeps the partition even when the count changed');
  });
});

describe('RenewingProducer', () => {
  it('sends through a new producer (new producer id) after a failed send; a send queued behind the failed one goes through it', async () => {
    const made: { id: number; sent: number; disconnected: boolean }[] = [];
    const fake = (fail: boolean) => {
      const state = { id: made.length, sent: 0, disconnected: false };
      made.push(state);
      return {
        connect: async () => undefined,
        disconnect: async () => void (state.disconnected = true),
        send: async () => {
          if (fail) throw new Error('connection lost');
          state.sent += 1;
          return [];
        },
      };
    };
    const kafka = { producer: () => fake(false) } as unknown as Kafka;
    const producer = new RenewingProducer(kafka, fake(true) as unknown as Producer);
    const failures = await Promise.allSettled([producer.send({ topic: 't', messages: [] }), producer.send({ topic: 't', messages: [] })]);
    assert.deepEqual(failures.map((f) => f.status), ['rejected', 'fulfilled'], 'the second waited for the first, then went through the renewed producer');
    await producer.send({ topic: 't', messages: [] });
    assert.equal(made.length, 2, 'one renewal');
    assert.equal(made[0]?.disconnected, true, 'the failed producer is closed');
    assert.equal(made[1]?.sent, 2, 'later sends go through the new producer');
  });
});

describe('RenewingProducer, one request at a time', () => {
  /** A producer whose sends wait until released, recording what each request carried. */
  const gated = () => {
    const requests: { topic: string; values: string[]; release: () => void }[] = [];
    const producer = {
      connect: async () => undefined,
      disconnect: async () => undefined,
      send: (record: { topic: string; messages: PlacedRecord[] }) =>
        new Promise((resolve) => {
          const replies = new Map<number, number>();
          record.messages.forEach((message, index) => {
            message[PARTITION] = index % 2;
            if (!replies.has(index % 2)) replies.set(index % 2, 100 + 10 * (index % 2));
          });
          requests.push({
            topic: record.topic,
            values: record.messages.map((message) => String(message.value)),
            release: () => resolve([...replies].map(([partition, baseOffset]) => ({ topicName: record.topic, partition, errorCode: 0, baseOffset: String(baseOffset) }))),
          });
        }),
    };
    return { producer, requests };
  };
  const records = (...values: string[]): PlacedRecord[] => values.map((value) => ({ value, headers: {} }));

  it('keeps one request in flight, and sends what queued meanwhile to one topic together, numbering each send from its own first record', async () => {
    const { producer, requests } = gated();
    const renewing = new RenewingProducer({} as Kafka, producer as unknown as Producer);
    const first = renewing.send({ topic: 't', messages: records('a') });
    const second = renewing.send({ topic: 't', messages: records('b', 'c') });
    const other = renewing.send({ topic: 'u', messages: records('x') });
    const third = renewing.send({ topic: 't', messages: records('d') });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(requests.length, 1, 'the others wait for the first request');
    requests[0]?.release();
    await first;
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(requests.map((request) => request.values), [['a'], ['b', 'c', 'd']], "the sends to t that queued leave together; u's waits its turn");
    requests[1]?.release();
    // In that request b, d went to partition 0 (base 100) and c to partition 1 (base 110).
    assert.deepEqual(positionsOf('t', records('b', 'c').map((record, index) => ({ ...record, [PARTITION]: index % 2 })), await second), ['t/0/100', 't/1/110']);
    assert.deepEqual(positionsOf('t', [{ ...records('d')[0], [PARTITION]: 0 } as PlacedRecord], await third), ['t/0/101']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(requests[2]?.values, ['x']);
    requests[2]?.release();
    assert.equal((await other).length, 1);
  });
});
