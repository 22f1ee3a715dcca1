import { registerDriver } from '@brokerkit/core';
import { driverFactory as kafka } from '@brokerkit/kafka';
import { driverFactory as memory } from '@brokerkit/memory';
import { driverFactory as nats } from '@brokerkit/nats';
import { driverFactory as pubsub } from '@brokerkit/pubsub';
import { driverFactory as rabbitmq } from '@brokerkit/rabbitmq';
import { driverFactory as redis } from '@brokerkit/redis';
import { driverFactory as sqs } from '@brokerkit/sqs';

/** Every adapter, so a worker process reaches whichever backend its URL names. */
export function registerAllDrivers(): void {
  for (const factory of [memory, redis, rabbitmq, kafka, sqs, pubsub, nats]) registerDriver(factory);
}
