// The conformance suite on the three-node RabbitMQ cluster (quorum queues with a member on
// each node): `node scripts/run-tests.mjs cluster:rabbitmq`, with the cluster started first —
// eval "$(./scripts/brokers up rabbitmq-cluster)".
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ConnectionError, SendError, connect, registerDriver } from '@brokerkit/core';
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

describe('RabbitMQ cluster: the node the producer is connected to, and leading its queue, dies and stays down', () => {
  const nodes = new URL('../../../scripts/brokers', import.meta.url).pathname;
  const run = (...args: string[]): string => execFileSync(nodes, ['node', 'rabbitmq-cluster', ...args], { encoding: 'utf8' }).trim();

  it('sends are confirmed again within 5 s, long before the node is back', { timeout: 120_000 }, async () => {
    const brokers = await startBrokers(['rabbitmq-cluster']);
    const broker = await connect(brokers.urls['rabbitmq-cluster'] as string);
    const queue = `cluster-leader-down-${process.pid}-${Date.now()}`;
    let leader: string | undefined;
    try {
      await broker.ensureQueue(queue);
      leader = run('leader', queue);
      const producer = broker.producer();
      await producer.send(queue, { body: 'before' });
      run('signal', leader, 'KILL');
      const killedAt = Date.now();
      // One send every 50 ms until one is confirmed; the node stays down meanwhile.
      let confirmedAfterMs = -1;
      while (Date.now() - killedAt < 15_000) {
        const ok = await producer.send(queue, { body: 'after' }).then(
          () => true,
          (error: unknown) => {
            assert.ok(error instanceof SendError || error instanceof ConnectionError, `a send failed with ${String(error)}`);
            return false;
          },
        );
        if (ok) {
          confirmedAfterMs = Date.now() - killedAt;
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(confirmedAfterMs >= 0 && confirmedAfterMs < 5_000, `first confirmed send ${confirmedAfterMs} ms after the kill (the node is still down)`);
    } finally {
      await broker.close();
      if (leader) run('revive', leader);
      await brokers.stop();
    }
  });
});

describe('RabbitMQ cluster: the node the producer is connected to stops answering', () => {
  const nodes = new URL('../../../scripts/brokers', import.meta.url).pathname;
  const run = (...args: string[]): string => execFileSync(nodes, ['node', 'rabbitmq-cluster', ...args], { encoding: 'utf8' }).trim();

  it('a send fails with a retriable SendError after confirmTimeoutMs, not never', { timeout: 60_000 }, async () => {
    const brokers = await startBrokers(['rabbitmq-cluster']);
    const base = brokers.urls['rabbitmq-cluster'] as string;
    // The first host of the URL is the node connected to.
    const broker = await connect(`${base}${base.includes('?') ? '&' : '?'}confirmTimeoutMs=500`);
    const first = `rabbitmq-cluster:${new URL(base.split(',')[0] as string).port.slice(-1)}`;
    const queue = `cluster-stalled-${process.pid}-${Date.now()}`;
    let stopped = false;
    try {
      await broker.ensureQueue(queue);
      await broker.producer().send(queue, { body: 'before' });
      run('signal', first, 'STOP');
      stopped = true;
      const started = Date.now();
      await assert.rejects(broker.producer().send(queue, { body: 'stalled' }), (error: unknown) => error instanceof SendError && error.retriable && /did not confirm 1 message\(s\) .* within 500 ms/.test(error.message));
      const tookMs = Date.now() - started;
      assert.ok(tookMs < 3_000, `failed after ${tookMs} ms`);
    } finally {
      if (stopped) run('signal', first, 'CONT');
      await broker.close();
      await brokers.stop();
    }
  });
});
