import type { EncodedMessage } from '@brokerkit/core/driver';
import { toFields } from './fields.js';
import { topicSlotPrefix } from './partitions.js';
import type { RedisClient } from './reader.js';

/**
 * Delayed sends. A delayed message waits in a stream of its own beside the topic,
 * `{topic}.delayed.messages` (binary-safe, as the topic's entries are), indexed by due time in
 * the sorted set `{topic}.delayed`. Subscribers of the topic move due ones into the topic's
 * stream, oldest due first, each in one script: moved once, never lost, never twice. Both keys
 * share the topic's hash slot.
 */
export const delayKeys = (topic: string): { index: string; messages: string } => {
  const prefix = topicSlotPrefix(topic);
  return { index: `${prefix}.delayed`, messages: `${prefix}.delayed.messages` };
};

/** Keep a message (ARGV[2..]: its fields) until ARGV[1] (epoch ms): KEYS[1] the index, KEYS[2] the messages. */
const DELAY = `
local id = redis.call('XADD', KEYS[2], '*', unpack(ARGV, 2))
redis.call('ZADD', KEYS[1], ARGV[1], id)
return id`;

/**
 * Move up to ARGV[2] messages due by ARGV[1] (epoch ms) into the topic (KEYS[3]), trimmed to
 * about ARGV[3] entries when given. Returns how many moved.
 */
const MOVE = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  local entry = redis.call('XRANGE', KEYS[2], id, id)[1]
  if entry then
    if ARGV[3] ~= '' then redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', unpack(entry[2]))
    else redis.call('XADD', KEYS[3], '*', unpack(entry[2])) end
    redis.call('XDEL', KEYS[2], id)
  end
  redis.call('ZREM', KEYS[1], id)
end
return #due`;

interface DelayCommands {
  bkDelay(index: string, messages: string, dueAt: number, ...fields: (string | Buffer)[]): Promise<string>;
  bkMove(index: string, messages: string, topic: string, now: number, limit: number, maxLen: string): Promise<number>;
}

function withDelayCommands(client: RedisClient): RedisClient & DelayCommands {
  if (!('bkDelay' in client)) {
    client.defineCommand('bkDelay', { lua: DELAY, numberOfKeys: 2 });
    client.defineCommand('bkMove', { lua: MOVE, numberOfKeys: 3 });
  }
  return client as RedisClient & DelayCommands;
}

/** Keep delayed messages for later (a pipeline of one script per message). Returns each one's entry in the delayed stream. */
export async function sendDelayed(client: RedisClient, topic: string, messages: EncodedMessage[]): Promise<string[]> {
  const { index, messages: stream } = delayKeys(topic);
  const commands = withDelayCommands(client);
  const pipeline = commands.pipeline() as unknown as DelayCommands & { exec(): Promise<[Error | null, unknown][] | null> };
  for (const message of messages) void pipeline.bkDelay(index, stream, message.deliverAt as number, ...toFields(message));
  const results = (await pipeline.exec()) ?? [];
  return messages.map((_, i) => {
    const [error, id] = results[i] ?? [new Error('no reply')];
    if (error) throw error;
    return String(id);
  });
}

/** How often subscribers look for due messages; the lateness of a delayed message is up to this. */
const MOVE_EVERY_MS = 100;
const MOVE_BATCH = 200;

/** The topics this connection's subscribers read, each with a mover for its due messages. */
export class DelayMovers {
  private readonly topics = new Map<string, { watchers: number; timer: NodeJS.Timeout | undefined }>();

  constructor(
    private readonly client: RedisClient,
    private readonly maxLen: number | undefined,
  ) {}

  /** Move the topic's due messages while the returned function is not called. */
  watch(topic: string): () => void {
    let entry = this.topics.get(topic);
    if (!entry) {
      entry = { watchers: 0, timer: undefined };
      this.topics.set(topic, entry);
      this.schedule(topic, 0);
    }
    entry.watchers += 1;
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      const current = this.topics.get(topic);
      if (!current || --current.watchers > 0) return;
      clearTimeout(current.timer);
      this.topics.delete(topic);
    };
  }

  stopAll(): void {
    for (const { timer } of this.topics.values()) clearTimeout(timer);
    this.topics.clear();
  }

  private schedule(topic: string, afterMs: number): void {
    const entry = this.topics.get(topic);
    if (!entry) return;
    entry.timer = setTimeout(() => {
      void this.move(topic).then(
        (moved) => this.schedule(topic, moved >= MOVE_BATCH ? 0 : MOVE_EVERY_MS),
        () => this.schedule(topic, MOVE_EVERY_MS),
      );
    }, afterMs);
    entry.timer.unref();
  }

  private async move(topic: string): Promise<number> {
    const { index, messages } = delayKeys(topic);
    return Number(await withDelayCommands(this.client).bkMove(index, messages, topic, Date.now(), MOVE_BATCH, this.maxLen === undefined ? '' : String(this.maxLen)));
  }
}
