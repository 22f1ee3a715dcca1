/**
 * The service accepted a request but its reply did not name an id for every message: they
 * were published, so sending them again would duplicate them.
 */
export class IncompleteReplyError extends Error {}

/** One message as the publish call takes it. */
export interface PublishItem {
  data: Buffer;
  attributes: Record<string, string>;
}

interface Waiting {
  items: PublishItem[];
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

/** Limits of one publish request, and how long a request waits for company. */
export interface PublishBatchLimits {
  maxMessages: number;
  /** Data and attribute bytes of one request. */
  maxBytes: number;
  /** How long the first send of a request waits for others; the library's publisher waits as long. */
  windowMs: number;
}

/**
 * The sends of one topic made within `windowMs` of each other leave as one publish request, as
 * the library's publisher gathers them: concurrent senders share a round trip (a request costs
 * far more than a message in it). A send's messages always travel in one request, in order; a
 * request that fills up leaves at once. Each send resolves with its messages' ids, or rejects
 * with the request's error.
 */
export class PublishBatcher {
  private waiting: Waiting[] = [];
  private count = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: PublishBatchLimits,
    private readonly publish: (items: PublishItem[]) => Promise<(string | null | undefined)[]>,
  ) {}

  add(items: PublishItem[]): Promise<string[]> {
    const size = items.reduce((sum, item) => sum + sizeOf(item), 0);
    // What is waiting leaves first when these would not fit with it.
    if (this.count > 0 && (this.count + items.length > this.limits.maxMessages || this.bytes + size > this.limits.maxBytes)) void this.flush();
    return new Promise<string[]>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      this.count += items.length;
      this.bytes += size;
      if (this.count >= this.limits.maxMessages || this.bytes >= this.limits.maxBytes) void this.flush();
      else this.timer ??= setTimeout(() => void this.flush(), this.limits.windowMs);
    });
  }

  /** Send what is waiting now (before closing, say); resolves when that request has its reply (never rejects: its sends do). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const sends = this.waiting;
    if (sends.length === 0) return Promise.resolve();
    this.waiting = [];
    this.count = 0;
    this.bytes = 0;
    return this.send(sends);
  }

  private async send(sends: Waiting[]): Promise<void> {
    const items = sends.length === 1 ? (sends[0] as Waiting).items : sends.flatMap((waiting) => waiting.items);
    let ids: (string | null | undefined)[];
    try {
      ids = await this.publish(items);
    } catch (error) {
      for (const waiting of sends) waiting.reject(error);
      return;
    }
    const named = ids.filter((id) => typeof id === 'string' && id !== '').length;
    if (ids.length !== items.length || named !== items.length) {
      // Which message an id belongs to is known only by position: with one missing, none is.
      const error = new IncompleteReplyError(`the publish reply named ${named} message ids for ${items.length} messages (accepted, so not to be sent again)`);
      for (const waiting of sends) waiting.reject(error);
      return;
    }
    let at = 0;
    for (const waiting of sends) {
      waiting.resolve(ids.slice(at, at + waiting.items.length) as string[]);
      at += waiting.items.length;
    }
  }
}

function sizeOf(item: PublishItem): number {
  let size = item.data.byteLength;
  for (const name in item.attributes) size += name.length + (item.attributes[name] as string).length;
  return size;
}
