// The conformance suite on the three-node Kafka cluster (replication factor 3,
// min.insync.replicas 2): `node scripts/run-tests.mjs cluster:kafka`, with the cluster started
// first — eval "$(./scripts/brokers up kafka-cluster)".
import { registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { startBrokers } from '@brokerkit/testing';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const brokers = await startBrokers(['kafka-cluster']);
  // Every bootstrap server unreachable: a ConnectionError naming them, within the connect timeout.
  // Twice the time for every deadline: twelve consumer groups joining at once on three nodes
  // sharing two cores took 12.9 s here, and once over the 20 s a single node never nears.
  return { ...harnessFor('kafka', brokers.urls['kafka-cluster']), timing: { deadlineScale: 2 }, unreachableUrl: 'kafka://127.0.0.1:1,127.0.0.1:2', dispose: brokers.stop };
});
