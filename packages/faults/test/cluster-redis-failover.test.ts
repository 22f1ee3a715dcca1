// node-failover and node-pause on the Redis Cluster (`node scripts/run-tests.mjs cluster:redis`,
// cluster started first). Redis replicates asynchronously, and a stopped primary that a replica
// replaced still answers the writes it had queued once it runs again, then drops them as it
// rejoins as a replica: confirmed messages may be lost, and the figures say how many. With
// waitReplicas=1 a send is confirmed only once a replica has it (WAIT): the same faults again,
// so the matrix shows what that changes.
import { describe, it } from 'node:test';
import { runClusterFailovers } from './cluster-failover.js';

describe('Redis Cluster: a leading node killed, and paused, while keyed messages flow', () => {
  it('measures sent, confirmed, handled, lost, duplicates, order and the outage over 3 runs of each', { timeout: 600_000 }, async () => {
    await runClusterFailovers('redis', 'redis-cluster');
  });

  it('measures the same with every send confirmed only once a replica has it (waitReplicas=1)', { timeout: 600_000 }, async () => {
    await runClusterFailovers('redis', 'redis-cluster', { urlOptions: 'waitReplicas=1&waitTimeoutMs=1000', name: 'redis-cluster-wait' });
  });
});
