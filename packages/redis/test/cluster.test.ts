// The conformance suite on a Redis Cluster (three primaries, three replicas): run by the
// `cluster` suite, with the cluster started first — eval "$(./scripts/brokers up redis-cluster)".
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { SendError, connect, registerDriver } from '@brokerkit/core';
import { harnessFor } from '@brokerkit/conformance';
import { registerConformanceTests } from '@brokerkit/conformance/node-test';
import { startBrokers, type StartedBrokers } from '@brokerkit/testing';
import { driverFactory } from '../src/index.js';

registerDriver(driverFactory);
registerConformanceTests(async () => {
  const brokers = await startBrokers(['redis-cluster']);
  // Every seed unreachable: a ConnectionError naming both, within the connect timeout.
  return { ...harnessFor('redis', brokers.urls['redis-cluster']), unreachableUrl: 'redis://127.0.0.1:1,127.0.0.1:2', dispose: brokers.stop };
});

describe('Redis Cluster: waiting for replicas (waitReplicas)', () => {
  let brokers: StartedBrokers | undefined;
  let url = '';
  before(async () => {
    brokers = await startBrokers(['redis-cluster']);
    url = brokers.urls['redis-cluster'] ?? '';
  });
  after(() => brokers?.stop());
  const withOptions = (query: string): string => `${url}${url.includes('?') ? '&' : '?'}${query}`;
  const topic = (label: string): string => `cluster-wait-${label}-${process.pid}-${Date.now()}`;

  it('confirms a send once the one replica of its primary has it', async () => {
    const broker = await connect(withOptions('waitReplicas=1&waitTimeoutMs=2000'));
    try {
      const name = topic('one');
      await broker.ensureQueue(name);
      const receipts = await broker.producer().sendBatch(name, [{ body: 1 }, { body: 2 }]);
      assert.equal(receipts.length, 2);
    } finally {
      await broker.close();
    }
  });

  it('does not confirm a send more replicas must have than there are: a retriable SendError saying how many had it', async () => {
    const broker = await connect(withOptions('waitReplicas=2&waitTimeoutMs=200'));
    try {
      await assert.rejects(
        broker.producer().send(topic('two'), { body: 1 }),
        (error: unknown) => error instanceof SendError && error.retriable && /1 of 2 replica\(s\) had the entries after 200 ms/.test(error.message),
      );
    } finally {
      await broker.close();
    }
  });
});
