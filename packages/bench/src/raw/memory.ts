import { decode, encode, type BenchTarget } from '../target.js';

interface ArrayQueue {
  items: (Buffer | undefined)[];
  head: number;
  waiters: (() => void)[];
}

/**
 * The cost floor under the memory backend: a plain in-process array queue, with the same JSON
 * encode and decode as every other side. Consumers are `concurrency` loops that each take the
 * next message, hand it to the handler, and await a turn (as a handler's promise is awaited).
 * What the memory backend costs beyond this is what the portable layer costs.
 */
export async function memoryRaw(): Promise<BenchTarget> {
  const queues = new Map<string, ArrayQueue>();
  const queueOf = (name: string): ArrayQueue => {
    let queue = queues.get(name);
    if (!queue) {
      queue = { items: [], head: 0, waiters: [] };
      queues.set(name, queue);
    }
    return queue;
  };
  const wake = (queue: ArrayQueue): void => {
    for (const waiter of queue.waiters.splice(0)) waiter();
  };
  return {
    setup: async (name) => {
      queueOf(name);
    },
    send: async (name, body) => {
      const queue = queueOf(name);
      queue.items.push(encode(body));
      wake(queue);
    },
    sendBatch: async (name, bodies) => {
      const queue = queueOf(name);
      for (const body of bodies) queue.items.push(encode(body));
      wake(queue);
    },
    consume: async (name, concurrency, handler) => {
      const queue = queueOf(name);
      let running = true;
      const loop = async (): Promise<void> => {
        while (running) {
          if (queue.head < queue.items.length) {
            const bytes = queue.items[queue.head] as Buffer;
            queue.items[queue.head] = undefined;
            queue.head += 1;
            if (queue.head === queue.items.length) {
              queue.items = [];
              queue.head = 0;
            }
            handler(decode(bytes));
            await Promise.resolve();
          } else {
            await new Promise<void>((resolve) => {
              queue.waiters.push(resolve);
              setTimeout(resolve, 100).unref();
            });
          }
        }
      };
      const loops = Array.from({ length: concurrency }, loop);
      return async () => {
        running = false;
        wake(queue);
        await Promise.all(loops);
      };
    },
    close: async () => {
      queues.clear();
    },
  };
}
