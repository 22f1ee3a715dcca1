import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Kafka, PartitionMetadata, Producer } from 'kafkajs';
import { RenewingProducer, stablePartitioner } from './producer.js';

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
