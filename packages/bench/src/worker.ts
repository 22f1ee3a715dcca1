// One bench run in its own process (so peak memory is its own): `worker.ts SIDE BACKEND URL OPTIONS_JSON`.
// Prints the figures as one JSON line on stdout.
import { registerDriver } from '@brokerkit/core';
import { driverFactory as kafka } from '@brokerkit/kafka';
import { driverFactory as memory } from '@brokerkit/memory';
import { driverFactory as pubsub } from '@brokerkit/pubsub';
import { driverFactory as rabbitmq } from '@brokerkit/rabbitmq';
import { driverFactory as redis } from '@brokerkit/redis';
import { driverFactory as sqs } from '@brokerkit/sqs';
import { rawTarget } from './raw/index.js';
import { sdkTarget } from './sdk.js';
import { runWorkload, type WorkloadOptions } from './workload.js';

for (const factory of [memory, redis, rabbitmq, kafka, sqs, pubsub]) registerDriver(factory);

const [side, backend, url, optionsJson] = process.argv.slice(2) as [string, string, string, string];
const options = JSON.parse(optionsJson) as WorkloadOptions;
const target = side === 'raw' ? await rawTarget(backend, url) : await sdkTarget(url);
try {
  const figures = await runWorkload(target, options);
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await target.close();
}
// Client libraries may keep timers after close; the figures are out.
process.exit(0);
