// node-failover and node-pause on the three-node Kafka cluster (`node scripts/run-tests.mjs
// cluster:kafka`, cluster started first). With acks=all, replication factor 3,
// min.insync.replicas 2 and no unclean leader election, a record the producer saw confirmed
// is on two replicas, one of which becomes leader: nothing confirmed may be lost, and with one
// partition per key, no key's order may break.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { runClusterFailovers } from './cluster-failover.js';

describe('Kafka cluster: a partition leader killed, and paused, while keyed messages flow', () => {
  it('loses nothing confirmed and keeps each key in order, over 3 runs of each', { timeout: 600_000 }, async () => {
    const report = await runClusterFailovers('kafka', 'kafka-cluster');
    for (const id of ['node-failover', 'node-pause'] as const) {
      assert.equal(report.scenarios[id].lost, 0, `${id}: ${report.scenarios[id].details[`run1`]}`);
      assert.equal(report.scenarios[id].details.orderViolations, 0, `${id}: order`);
    }
  });
});
