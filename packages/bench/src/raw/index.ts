import type { BenchTarget } from '../target.js';
import { kafkaRaw } from './kafka.js';
import { memoryRaw } from './memory.js';
import { natsRaw } from './nats.js';
import { pubsubRaw } from './pubsub.js';
import { rabbitmqRaw } from './rabbitmq.js';
import { redisRaw } from './redis.js';
import { sqsRaw } from './sqs.js';

/** Each takes the URL, and whether to send brokerkit's metadata with each message too. */
const RAW: Record<string, (url: string, metadata: boolean) => Promise<BenchTarget>> = {
  memory: () => memoryRaw(),
  redis: redisRaw,
  rabbitmq: rabbitmqRaw,
  kafka: kafkaRaw,
  sqs: sqsRaw,
  pubsub: pubsubRaw,
  nats: natsRaw,
};

/** Backends with a raw side to compare against (memory's is a plain in-process array queue: the cost floor). */
export const RAW_BACKENDS = Object.keys(RAW);

export function rawTarget(backend: string, url: string, metadata = false): Promise<BenchTarget> {
  const make = RAW[backend];
  if (!make) throw new Error(`no raw client for backend "${backend}"`);
  return make(url, metadata);
}
