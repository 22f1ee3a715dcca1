import { randomFillSync } from 'node:crypto';

/**
 * Message ids brokerkit makes: UUID version 7 (RFC 9562), the Unix time in milliseconds in the
 * first 48 bits and 74 random bits. They sort by when they were made, index well in a database,
 * and say when the message was sent: an adapter whose broker keeps only whole seconds
 * (RabbitMQ's AMQP timestamp) reads the millisecond from the id rather than sending it again.
 * Random bits come from a pool filled 256 ids at a time, as `crypto.randomUUID()` does: one
 * system call per id would cost more than the rest of the id (this one costs about what
 * `randomUUID()` does).
 */
const POOL_IDS = 256;
const ID_BYTES = 16;
const pool = Buffer.alloc(POOL_IDS * ID_BYTES);
let next = POOL_IDS;

export function uuidV7(ms: number = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const at = next * ID_BYTES;
  next += 1;
  // 48-bit big-endian milliseconds over the first six random bytes (bitwise operators stop at 32 bits).
  pool[at] = Math.floor(ms / 2 ** 40) & 0xff;
  pool[at + 1] = Math.floor(ms / 2 ** 32) & 0xff;
  pool[at + 2] = (ms >>> 24) & 0xff;
  pool[at + 3] = (ms >>> 16) & 0xff;
  pool[at + 4] = (ms >>> 8) & 0xff;
  pool[at + 5] = ms & 0xff;
  pool[at + 6] = ((pool[at + 6] as number) & 0x0f) | 0x70; // version 7
  pool[at + 8] = ((pool[at + 8] as number) & 0x3f) | 0x80; // variant 10
  const hex = pool.toString('hex', at, at + ID_BYTES);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** When a UUIDv7 was made (epoch ms); undefined for any other id. */
export function uuidV7Time(id: string): number | undefined {
  if (id.length !== 36 || !V7.test(id)) return undefined;
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
