import { TopologyError, describeError } from '@brokerkit/core';
import { partitionCountRefused } from '@brokerkit/core/driver';
import type { ChannelModel, Options } from 'amqplib';
import { WORK_QUEUE, declare, onThrowawayChannel } from './topology.js';

/**
 * A key-ordered subscription is partitioned: the topic's exchange feeds a consistent-hash
 * exchange `<subscription>.partitions`, which routes each message by its routing key (the
 * message key; a keyless message's id) to one of N quorum queues `<subscription>.p0 … pN-1`.
 * Each partition queue has single-active-consumer on: every instance consumes every partition,
 * the broker delivers each to one of them at a time, and when that one's connection dies, to
 * the next — so a key is never handled by two instances at once, whatever the instances think.
 *
 *   producer ─► exchange <topic> ─#─► <sub>.partitions (x-consistent-hash)
 *                                        ├─► <sub>.p0  (quorum, single active consumer)
 *                                        ├─► <sub>.p1
 *                                        └─► …
 */
export const partitionExchange = (subscription: string): string => `${subscription}.partitions`;
export const partitionQueue = (subscription: string, index: number): string => `${subscription}.p${index}`;
/** Where the instances of a partitioned subscription hear of each other. */
export const membersExchange = (subscription: string): string => `${subscription}.members`;
export const memberQueue = (subscription: string, instance: string): string => `${subscription}.member.${instance}`;

/** Each partition's points on the hash ring: with one point each the arcs, and so the partitions' shares, differ several-fold. */
const RING_POINTS = '64';
/** The exchange remembers N; declaring it with another N is refused by the broker (PRECONDITION_FAILED). */
const PARTITIONS_ARGUMENT = 'x-brokerkit-partitions';

export const PARTITION_QUEUE: Options.AssertQueue = { durable: true, arguments: { ...WORK_QUEUE.arguments, 'x-single-active-consumer': true } };

/**
 * Declare the partitions of `subscription` and feed them from `topic`'s exchange. N is fixed
 * once declared: a message's partition is its key's hash among N, and with another N keys
 * would move to partitions holding none of their earlier messages, breaking their order — so
 * another N is a TopologyError naming what to do, not a silent repartition.
 */
export async function declarePartitions(model: ChannelModel, topic: string, subscription: string, partitions: number): Promise<void> {
  const exchange = partitionExchange(subscription);
  try {
    await declare(model, `partition exchange ${exchange}`, (channel) =>
      channel.assertExchange(exchange, 'x-consistent-hash', { durable: true, arguments: { [PARTITIONS_ARGUMENT]: partitions } }),
    );
  } catch (error) {
    const text = describeError(error);
    if (/PRECONDITION_FAILED/.test(text) && /x-brokerkit-partitions|args|argument/i.test(text)) {
      throw new TopologyError(partitionCountRefused(subscription, undefined, partitions, `delete ${exchange} and its ${subscription}.p* queues`), { cause: error });
    }
    throw error;
  }
  await declare(model, `partition queues of ${subscription}`, async (channel) => {
    for (let index = 0; index < partitions; index += 1) {
      await channel.assertQueue(partitionQueue(subscription, index), PARTITION_QUEUE);
      await channel.bindQueue(partitionQueue(subscription, index), exchange, RING_POINTS);
    }
    await channel.bindExchange(exchange, topic, '#');
  });
}

/**
 * A queue's ready messages and consumers, or undefined when it does not exist. Another
 * connection's exclusive queue exists but cannot be looked into (RESOURCE_LOCKED): counts of -1.
 */
export async function inspectQueue(model: ChannelModel, queue: string): Promise<{ messageCount: number; consumerCount: number } | undefined> {
  try {
    const { messageCount, consumerCount } = await onThrowawayChannel(model, (channel) => channel.checkQueue(queue));
    return { messageCount, consumerCount };
  } catch (error) {
    const text = describeError(error);
    if (/NOT_FOUND|404/.test(text)) return undefined;
    if (/RESOURCE_LOCKED|405/.test(text)) return { messageCount: -1, consumerCount: -1 };
    throw error;
  }
}

/**
 * A subscription declared before its ordering was known (`ensureSubscription` without one) is
 * one plain queue bound to the topic. When it becomes key-ordered the partitions take over new
 * messages, and the plain queue is unbound: what it holds is handled before any partition is
 * (`PartitionedSubscription`). Partitions are bound first, so a message sent meanwhile goes to
 * both at worst (a duplicate), never to neither.
 */
export async function retirePlainQueue(model: ChannelModel, topic: string, subscription: string): Promise<boolean> {
  if (!(await inspectQueue(model, subscription))) return false;
  await declare(model, `unbinding ${subscription} from ${topic}`, (channel) => channel.unbindQueue(subscription, topic, '#'));
  return true;
}
