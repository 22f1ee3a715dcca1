import type { Delivery } from '@brokerkit/core/driver';
import { fromFields, publishedAtOf, type RawEntry } from './fields.js';
import { BlockingReader, type RedisClient } from './reader.js';

const BLOCK_MS = 2_000;

/**
 * An ephemeral subscription: plain XREAD from the stream's last entry at attach time. It sees
 * exactly what is added while attached — the same entries durable groups get, with no second
 * write per message as PUBLISH would need — and holds nothing in Redis: at most once.
 * Retries happen in this process; a close or crash drops what was not handled.
 */
export class EphemeralSubscription extends BlockingReader {
  private lastId = '0-0';

  constructor(
    commands: RedisClient,
    blocking: RedisClient,
    private readonly stream: string,
  ) {
    super(commands, blocking, stream);
  }

  override async start(): Promise<void> {
    await super.start();
    const [last] = (await this.commands.xrevrange(this.stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
    this.lastId = last?.[0] ?? '0-0';
  }

  protected async readBlocking(max: number): Promise<Delivery[]> {
    const reply = (await this.blocking.xreadBuffer('COUNT', max, 'BLOCK', BLOCK_MS, 'STREAMS', this.stream, this.lastId)) as [Buffer, RawEntry[]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    const last = entries.at(-1);
    if (last) this.lastId = last[0].toString();
    return entries.map(([id, fields]) => this.toDelivery(id.toString(), fields, 1));
  }

  private toDelivery(entryId: string, fields: Buffer[], attempt: number): Delivery {
    return {
      message: fromFields(this.stream, entryId, fields),
      publishedAt: publishedAtOf(entryId),
      attempt,
      native: { stream: this.stream, entryId },
      ack: async () => undefined,
      nack: async (delayMs) => {
        this.later(Math.max(0, delayMs), async () => this.makeReady(this.toDelivery(entryId, fields, attempt + 1)));
      },
    };
  }
}
