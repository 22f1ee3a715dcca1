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
  return { ...harnessFor('kafka', brokers.urls['kafka-cluster']), unreachableUrl: 'kafka://127.0.0.1:1,127.0.0.1:2', dispose: brokers.stop };
});
