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
  it('sends through a new producer (new producer id) after a failed send, and only renews once for concurrent failures', async () => {
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
    assert.deepEqual(failures.map((f) => f.status), ['rejected', 'rejected']);
    await producer.send({ topic: 't', messages: [] });
    assert.equal(made.length, 2, 'one renewal for both failures');
    assert.equal(made[0]?.disconnected, true, 'the failed producer is closed');
    assert.equal(made[1]?.sent, 1, 'the next send goes through the new producer');
  });
});
