// node-failover and node-pause on the three-node RabbitMQ cluster (`node scripts/run-tests.mjs
// cluster:rabbitmq`, cluster started first). A quorum queue confirms a publish once a majority
// of its members has it, and elects a new leader among them: while two of three nodes live,
// nothing confirmed may be lost. Key order across the two consumer processes is not asserted:
// on RabbitMQ it holds within an instance (the figures say how often it broke across them).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { runClusterFailovers } from './cluster-failover.js';

describe('RabbitMQ cluster: a quorum queue leader killed, and paused, while keyed messages flow', () => {
  it('loses nothing confirmed, over 3 runs of each', { timeout: 600_000 }, async () => {
    const report = await runClusterFailovers('rabbitmq', 'rabbitmq-cluster');
    for (const id of ['node-failover', 'node-pause'] as const) {
      assert.equal(report.scenarios[id].lost, 0, `${id}: ${report.scenarios[id].details.run1}`);
    }
  });
});
