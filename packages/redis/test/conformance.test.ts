import { registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { startBrokers } from '@brokerkit/testing';
import { after } from 'node:test';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const brokers = await startBrokers(['redis']);
  after(() => brokers.stop());
  return harnessFor('redis', brokers.urls.redis);
});
