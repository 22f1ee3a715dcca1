import { Partitioners, type ICustomPartitioner, type Kafka, type Producer, type RecordMetadata } from 'kafkajs';
import { SendError } from '@brokerkit/core';
import { PARTITION, positionOf, type PlacedRecord } from './wire.js';

export { PARTITION, type PlacedRecord };

/**
 * The partition of a record is chosen once per message, not once per try: kafkajs calls the
 * partitioner again when it retries a send, and its default sends a keyless record round-robin,
 * so a retry after a lost reply went to another partition — the record was written twice, and
 * the first partition's idempotence sequence, never advanced, made the broker drop the next
 * record sent there as a "duplicate" (seen under a network cut: one confirmed message missing
 * from the log). Keyed records hash their key as before; keyless ones go round-robin. The
 * partition is written on the record itself (kafkajs passes the same object each try), where
 * its retries and its receipt find it. Hashing the message id did the same job at about 2 µs
 * of CPU per record, mostly kafkajs' murmur2 on 64-bit arithmetic emulated in JavaScript.
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  let next = 0;
  return (args) => {
    const record = args.message as PlacedRecord;
    let partition = record[PARTITION];
    if (partition !== undefined) return partition;
    if (record.key !== null && record.key !== undefined) {
      partition = byKey(args);
    } else {
      // Partitions are only ever added to a topic, so a partition once chosen stays valid.
      const { partitionMetadata } = args;
      partition = (partitionMetadata[next % partitionMetadata.length] as { partitionId: number }).partitionId;
      next = (next + 1) % partitionMetadata.length;
    }
    record[PARTITION] = partition;
    return partition;
  };
};

/**
 * Each record's position, `<topic>/<partition>/<offset>`, in the order sent: Kafka's reply
 * names the first offset it gave each partition's records, and gives them consecutive offsets
 * in the order they were sent. This is the id of a message sent without one, the same id a
 * record written by any other client gets on receive.
 */
export function positionsOf(topic: string, records: readonly PlacedRecord[], replies: readonly RecordMetadata[]): string[] {
  const next = new Map<number, bigint | number>();
  for (const reply of replies) {
    if (reply.topicName !== topic || reply.baseOffset === undefined) continue;
    const base = Number(reply.baseOffset);
    // Offsets are 64-bit; past 2^53 (not reached at a million records a second for 280 years) they are counted exactly.
    next.set(reply.partition, Number.isSafeInteger(base + records.length) ? base : BigInt(reply.baseOffset));
  }
  return records.map((record) => {
    const partition = record[PARTITION];
    const offset = partition === undefined ? undefined : next.get(partition);
    if (offset === undefined) {
      // Not retriable: Kafka accepted the records, so sending them again would write them twice.
      throw new SendError(`Kafka accepted ${records.length} record(s) to ${topic} but its reply names no offset for partition ${String(partition)}`, { retriable: false });
    }
    next.set(partition as number, typeof offset === 'bigint' ? offset + 1n : offset + 1);
    return positionOf(topic, partition as number, offset);
  });
}

export const producerOptions = {
  // Idempotent, acks=all, one request in flight: no duplicates from producer retries, order kept.
  idempotent: true,
  maxInFlightRequests: 1,
  retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2_000 },
  createPartitioner: stablePartitioner,
} as const;

/** A send waiting for its turn: one topic's records, and the caller to answer. */
interface Queued {
  record: Parameters<Producer['send']>[0];
  resolve: (replies: RecordMetadata[]) => void;
  reject: (error: unknown) => void;
}

/** Most bytes of records one coalesced request carries (Kafka's default batch limit is 1 MiB). */
const MAX_COALESCED_BYTES = 900 * 1_024;
/** Most sends one coalesced request carries. */
const MAX_COALESCED_SENDS = 500;

/**
 * The idempotent producer, one request at a time, renewed after a send that failed.
 *
 * One at a time: kafkajs numbers each partition's records as it builds a request, and when a
 * leader dies, the retries of requests that were in flight together reach the new leader in
 * another order. The broker then takes a later request's records for a retry of an earlier
 * one: seen on a three-node cluster with a partition leader SIGKILLed, one record written
 * twice and another never, while its send resolved (1 to 4 confirmed records lost in 3 of 7
 * runs). So sends wait for the request before them, and the sends to one topic that queued
 * meanwhile leave together in the next request: as many broker round trips as before under
 * load, each carrying more.
 *
 * Renewed after a failure: a failed request may still have been written, and kafkajs does not
 * advance its sequence for it, so the next record to that partition would be taken for a
 * duplicate and dropped. A new producer gets a new producer id from the broker and starts its
 * sequences afresh. Sends wait for a renewal under way.
 */
export class RenewingProducer {
  private current: Promise<Producer>;
  /** The producer `current` resolved to; undefined while a renewal is under way. */
  private ready: Producer | undefined;
  private readonly queue: Queued[] = [];
  private sending = false;

  constructor(
    private readonly kafka: Kafka,
    first: Producer,
  ) {
    this.current = Promise.resolve(first);
    this.ready = first;
  }

  /** The producer sends use now (for `native()`). */
  get active(): Promise<Producer> {
    return this.current;
  }

  /** Send once the requests before it are done; resolves with this send's own replies. */
  send(record: Parameters<Producer['send']>[0]): Promise<RecordMetadata[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const sends = this.takeTurn();
        const records = sends.flatMap((each) => each.record.messages as PlacedRecord[]);
        const first = (sends[0] as Queued).record;
        try {
          const replies = await this.sendWithRetry({ ...first, messages: records });
          splitReplies(first.topic, sends, replies);
        } catch (error) {
          for (const each of sends) each.reject(error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** The next send, with the sends to its topic queued behind it, within the bounds of one request. */
  private takeTurn(): Queued[] {
    const head = this.queue.shift() as Queued;
    const taken = [head];
    let bytes = recordBytes(head.record.messages as PlacedRecord[]);
    for (let index = 0; index < this.queue.length && taken.length < MAX_COALESCED_SENDS; ) {
      const next = this.queue[index] as Queued;
      const size = recordBytes(next.record.messages as PlacedRecord[]);
      if (next.record.topic !== head.record.topic || next.record.acks !== head.record.acks || bytes + size > MAX_COALESCED_BYTES) {
        index += 1;
        continue;
      }
      taken.push(next);
      bytes += size;
      this.queue.splice(index, 1);
    }
    return taken;
  }

  private sendWithRetry(record: Parameters<Producer['send']>[0]): Promise<RecordMetadata[]> {
    return this.sendOnce(record).catch((error: unknown) => {
      if (!unknownTopic(error)) throw error;
      // kafkajs asks for the metadata of every topic its producer ever sent to, before a send
      // to a topic it has not sent to yet; once one of those topics is deleted, that request
      // fails and takes the send down with it, whatever topic it was for. The renewed producer
      // knows no topic but this one: one more try on it. Nothing was written (the topic was
      // unknown), so it cannot duplicate; if this topic is the missing one, it fails again.
      return this.sendOnce(record);
    });
  }

  /** One send on the current producer (no wait while none is being renewed), renewed if the send fails. */
  private sendOnce(record: Parameters<Producer['send']>[0]): Promise<RecordMetadata[]> {
    const ready = this.ready;
    if (ready !== undefined) return this.sendOn(ready, record);
    return this.current.then((producer) => this.sendOn(producer, record));
  }

  private sendOn(producer: Producer, record: Parameters<Producer['send']>[0]): Promise<RecordMetadata[]> {
    return producer.send(record).catch((error: unknown) => {
      this.renew(producer);
      throw error;
    });
  }

  async disconnect(): Promise<void> {
    await (await this.current.catch(() => undefined))?.disconnect();
  }

  private renew(failed: Producer): void {
    this.ready = undefined;
    const renewed = this.current.then(async (producer) => {
      if (producer !== failed) return producer;
      await failed.disconnect().catch(() => undefined);
      const fresh = this.kafka.producer(producerOptions);
      // Connected on first use: while the broker is unreachable this fails, and the next send renews again.
      await fresh.connect().catch(() => undefined);
      return fresh;
    });
    this.current = renewed;
    void renewed.then((producer) => {
      if (this.current === renewed) this.ready = producer;
    });
  }
}

/** Kafka answered UNKNOWN_TOPIC_OR_PARTITION, here or in the error kafkajs gave up after. */
function unknownTopic(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return true;
  }
  return false;
}

/** What a send's records weigh in a request, roughly: values, keys and a record's overhead. */
function recordBytes(records: readonly PlacedRecord[]): number {
  let bytes = 0;
  for (const record of records) {
    const value = record.value as Buffer | string | null;
    bytes += 64 + (value === null ? 0 : typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength);
    if (typeof record.key === 'string') bytes += Buffer.byteLength(record.key);
    else if (record.key) bytes += record.key.byteLength;
  }
  return bytes;
}

/**
 * Answer each send of a coalesced request with replies of its own: Kafka named the first
 * offset of each partition's records in the request, and each send's records on a partition
 * follow those of the sends before it, so its first offset there is that plus what came before.
 */
export function splitReplies(topic: string, sends: readonly Pick<Queued, 'record' | 'resolve'>[], replies: readonly RecordMetadata[]): void {
  const base = new Map<number, RecordMetadata>();
  for (const reply of replies) if (reply.topicName === topic) base.set(reply.partition, reply);
  const before = new Map<number, bigint>();
  for (const send of sends) {
    const own = new Map<number, RecordMetadata>();
    for (const record of send.record.messages as PlacedRecord[]) {
      const partition = record[PARTITION];
      if (partition === undefined) continue;
      const reply = base.get(partition);
      const earlier = before.get(partition) ?? 0n;
      if (reply !== undefined && !own.has(partition)) {
        own.set(partition, reply.baseOffset === undefined ? reply : { ...reply, baseOffset: String(BigInt(reply.baseOffset) + earlier) });
      }
      before.set(partition, earlier + 1n);
    }
    send.resolve([...own.values()]);
  }
}
