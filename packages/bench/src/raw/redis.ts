import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { METADATA, decode, encode, type BenchBody, type BenchTarget } from '../target.js';

/**
 * ioredis alone: XADD (pipelined batches), XREADGROUP with COUNT = concurrency, XACK after each
 * handler. With `metadata`, entries carry brokerkit's content type field too (its ids are the
 * entry ids: nothing to send).
 */
export async function redisRaw(url: string, metadata: boolean): Promise<BenchTarget> {
  const contentType = [`h:${METADATA.contentTypeHeader}`, METADATA.contentType];
  const fields = metadata ? (body: BenchBody) => ['body', encode(body), ...contentType] : (body: BenchBody) => ['body', encode(body)];
  const client = new Redis(url.replace(/^redis:/, 'redis:'), { lazyConnect: true, maxRetriesPerRequest: 3 });
  await client.connect();
  const readers: Redis[] = [];
  return {
    setup: async (queue) => {
      await client.xgroup('CREATE', queue, queue, '$', 'MKSTREAM').catch((error: Error) => {
        if (!/BUSYGROUP/.test(error.message)) throw error;
      });
    },
    send: async (queue, body) => {
      await client.xadd(queue, '*', ...fields(body));
    },
    sendBatch: async (queue, bodies) => {
      const pipeline = client.pipeline();
      for (const body of bodies) pipeline.xadd(queue, '*', ...fields(body));
      await pipeline.exec();
    },
    cleanup: async (prefix) => {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    },
    consume: async (queue, concurrency, handler) => {
      const reader = client.duplicate();
      readers.push(reader);
      const consumer = `raw-${randomBytes(4).toString('hex')}`;
      let running = true;
      const loop = (async () => {
        while (running) {
          const reply = (await reader.xreadgroup('GROUP', queue, consumer, 'COUNT', concurrency, 'BLOCK', 500, 'STREAMS', queue, '>')) as [string, [string, string[]][]][] | null;
          const entries = reply?.[0]?.[1] ?? [];
          await Promise.all(
            entries.map(async ([id, fields]) => {
              handler(decode(fields[1] as string));
              await client.xack(queue, queue, id);
            }),
          );
        }
      })();
      return async () => {
        running = false;
        await loop.catch(() => undefined);
        reader.disconnect();
      };
    },
    close: async () => {
      for (const reader of readers) reader.disconnect();
      await client.quit();
    },
  };
}
