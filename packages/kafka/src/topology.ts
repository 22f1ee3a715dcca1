import type { Admin } from 'kafkajs';
import { TopologyError, describeError } from '@brokerkit/core';
import { OncePerKey } from '@brokerkit/core/driver';

/**
 * Topics are created through the admin API when first used (partitions from the URL, replication
 * from the broker's default). Consumer groups need no declaration: a durable group without
 * committed offsets starts at the earliest retained record (auto.offset.reset=earliest), so
 * nothing sent after `ensureQueue()` is missed. (Committing end offsets for a new group through
 * kafkajs' admin joins a throwaway consumer and costs ~5 s per topic, so it is not done.)
 */
export class KafkaTopology {
  private readonly topics = new OncePerKey<void>();
  private listed: { at: number; names: Promise<Set<string>> } | undefined;

  constructor(
    private readonly admin: Admin,
    private readonly partitions: number,
    private readonly replicationFactor: number | undefined,
  ) {}

  /** Whether `name` is known to exist (created or found by this process). */
  hasTopic(name: string): boolean {
    return this.topics.done(name);
  }

  /** `config`: topic settings for a topic created here (one found is left as it is). */
  ensureTopic(name: string, config?: Record<string, string>): Promise<void> {
    return this.topics.get(name, () => this.createTopic(name, config));
  }

  /** Whether `name` exists, from a list of the cluster's topics at most a second old (one request for many callers). */
  async topicExists(name: string): Promise<boolean> {
    if (this.hasTopic(name)) return true;
    if (!this.listed || Date.now() - this.listed.at > 1_000) {
      const names = this.admin.listTopics().then((list) => new Set(list));
      this.listed = { at: Date.now(), names };
      names.catch(() => this.listed?.names === names && (this.listed = undefined));
    }
    return (await this.listed.names).has(name);
  }

  /** The group's committed offset and metadata on every partition of `topic`. */
  async committed(group: string, topic: string): Promise<Map<number, { offset: string; metadata: string | null }>> {
    const [offsets] = await this.admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map((offsets?.partitions ?? []).map((p) => [p.partition, p]));
  }

  async deleteGroup(group: string): Promise<void> {
    await this.admin.deleteGroups([group]).catch(() => undefined);
  }

  private async createTopic(name: string, config: Record<string, string> | undefined): Promise<void> {
    // While waiting for leaders, kafkajs' metadata request can meet a broker that does not host
    // the new topic's partitions yet (UNKNOWN_TOPIC_OR_PARTITION; seen once in a CI run after a
    // bench had deleted many topics): the topic is being made, so ask again, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.createTopicOnce(name, config);
        return;
      } catch (error) {
        if (attempt >= 3 || !/does not host this topic-partition/i.test(describeError(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  }

  private async createTopicOnce(name: string, config: Record<string, string> | undefined): Promise<void> {
    try {
      await this.admin.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: name,
            numPartitions: this.partitions,
            ...(this.replicationFactor ? { replicationFactor: this.replicationFactor } : {}),
            ...(config ? { configEntries: Object.entries(config).map(([key, value]) => ({ name: key, value })) } : {}),
          },
        ],
      });
    } catch (error) {
      if (/already exists/i.test(describeError(error))) return;
      throw new TopologyError(`creating Kafka topic ${name} failed: ${describeError(error)}`, { cause: error });
    }
  }
}
