import type { BenchTarget } from '../target.js';
import { kafkaRaw } from './kafka.js';
import { pubsubRaw } from './pubsub.js';
import { rabbitmqRaw } from './rabbitmq.js';
import { redisRaw } from './redis.js';
import { sqsRaw } from './sqs.js';

/** Each takes the URL, and whether to send brokerkit's metadata with each message too. */
const RAW: Record<string, (url: string, metadata: boolean) => Promise<BenchTarget>> = {
  redis: redisRaw,
  rabbitmq: rabbitmqRaw,
  kafka: kafkaRaw,
  sqs: sqsRaw,
  pubsub: pubsubRaw,
};

/** Backends with a raw client to compare against (memory has none: it is brokerkit's own). */
export const RAW_BACKENDS = Object.keys(RAW);

export function rawTarget(backend: string, url: string, metadata = false): Promise<BenchTarget> {
  const make = RAW[backend];
  if (!make) throw new Error(`no raw client for backend "${backend}"`);
  return make(url, metadata);
}
