import { Partitioners, type ICustomPartitioner, type Kafka, type Producer } from 'kafkajs';

/**
 * The partition of a record is chosen once per message, not once per try: kafkajs calls the
 * partitioner again when it retries a send, and its default sends a keyless record round-robin,
 * so a retry after a lost reply went to another partition — the record was written twice, and
 * the first partition's idempotence sequence, never advanced, made the broker drop the next
 * record sent there as a "duplicate" (seen under a network cut: one confirmed message missing
 * from the log). Keyed records hash their key as before; keyless ones go round-robin, and the
 * partition a record got is remembered for its retries (kafkajs passes the same record object
 * each try). Hashing the message id did the same job at about 2 µs of CPU per record, mostly
 * kafkajs' murmur2 on 64-bit arithmetic emulated in JavaScript.
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  const chosen = new WeakMap<object, number>();
  let next = 0;
  return (args) => {
    if (args.message.key !== null && args.message.key !== undefined) return byKey(args);
    let partition = chosen.get(args.message);
    if (partition === undefined) {
      // Partitions are only ever added to a topic, so a partition once chosen stays valid.
      const { partitionMetadata } = args;
      partition = (partitionMetadata[next % partitionMetadata.length] as { partitionId: number }).partitionId;
      next = (next + 1) % partitionMetadata.length;
      chosen.set(args.message, partition);
    }
    return partition;
  };
};

export const producerOptions = {
  // Idempotent, acks=all, one request in flight: no duplicates from producer retries, order kept.
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  createPartitioner: stablePartitioner,
} as const;

/**
 * The idempotent producer, renewed after a send that failed: a failed request may still have
 * been written, and kafkajs does not advance its sequence for it, so the next record to that
 * partition would be taken for a duplicate and dropped. A new producer gets a new producer id
 * from the broker and starts its sequences afresh. Sends wait for a renewal under way.
 */
export class RenewingProducer {
  private current: Promise<Producer>;

  constructor(
    private readonly kafka: Kafka,
    first: Producer,
  ) {
    this.current = Promise.resolve(first);
  }

  /** The producer sends use now (for `native()`). */
  get active(): Promise<Producer> {
    return this.current;
  }

  async send(record: Parameters<Producer['send']>[0]): Promise<void> {
    const producer = await this.current;
    try {
      await producer.send(record);
    } catch (error) {
      this.renew(producer);
      throw error;
    }
  }

  async disconnect(): Promise<void> {
    await (await this.current.catch(() => undefined))?.disconnect();
  }

  private renew(failed: Producer): void {
    const before = this.current;
    this.current = before.then(async (producer) => {
      if (producer !== failed) return producer;
      await failed.disconnect().catch(() => undefined);
      const fresh = this.kafka.producer(producerOptions);
      // Connected on first use: while the broker is unreachable this fails, and the next send renews again.
      await fresh.connect().catch(() => undefined);
      return fresh;
    });
  }
}
