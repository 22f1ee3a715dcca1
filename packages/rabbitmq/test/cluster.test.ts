// The conformance suite on the three-node RabbitMQ cluster (quorum queues with a member on
// each node): `node scripts/run-tests.mjs cluster:rabbitmq`, with the cluster started first —
// eval "$(./scripts/brokers up rabbitmq-cluster)".
import { registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { startBrokers } from '@brokerkit/testing';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const brokers = await startBrokers(['rabbitmq-cluster']);
  // Every node unreachable: a ConnectionError naming each, within the connect timeout.
  return { ...harnessFor('rabbitmq', brokers.urls['rabbitmq-cluster']), unreachableUrl: 'amqp://guest:guest@127.0.0.1:1,127.0.0.1:2', dispose: brokers.stop };
});
