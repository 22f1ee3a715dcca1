// The conformance suite on the three-node JetStream cluster (streams with three replicas):
// `node scripts/run-tests.mjs cluster:nats`, with the cluster started first —
// eval "$(./scripts/brokers up nats-cluster)".
import { registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { startBrokers } from '@brokerkit/testing';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const brokers = await startBrokers(['nats-cluster']);
  // Every node unreachable: a ConnectionError within the connect timeout.
  return { ...harnessFor('nats', brokers.urls['nats-cluster']), unreachableUrl: 'nats://127.0.0.1:1,127.0.0.1:2', dispose: brokers.stop };
});
