// The conformance suite on the three-node Kafka cluster (replication factor 3,
// min.insync.replicas 2): `node scripts/run-tests.mjs cluster:kafka`, with the cluster started
// first — eval "$(./scripts/brokers up kafka-cluster)".
import { registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const url = process.env.BROKERKIT_KAFKA_CLUSTER_URL;
  if (!url) throw new Error('BROKERKIT_KAFKA_CLUSTER_URL is not set: start the cluster with eval "$(./scripts/brokers up kafka-cluster)"');
  // Every bootstrap server unreachable: a ConnectionError naming them, within the connect timeout.
  return { ...harnessFor('kafka', url), unreachableUrl: 'kafka://127.0.0.1:1,127.0.0.1:2', dispose: async () => undefined };
});
