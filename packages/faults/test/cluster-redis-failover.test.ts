// node-failover and node-pause on the Redis Cluster (run by the `cluster` suite, cluster started
// first). Redis replicates asynchronously, so a primary killed right after acknowledging an
// XADD may lose it: what is asserted is that the scenario ran and its figures add up, not that
// nothing was lost; the figures go to reports/faults-redis-cluster.json for the matrix.
import { strict as assert } from 'node:assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { clusterNodesFrom, runFaults } from '../src/index.js';

const root = new URL('../../../', import.meta.url).pathname;

describe('Redis Cluster: a leading node killed, and paused, while keyed messages flow', () => {
  it('measures sent, confirmed, handled, lost, duplicates, order and the outage over 3 runs of each', { timeout: 600_000 }, async () => {
    const url = process.env.BROKERKIT_REDIS_CLUSTER_URL;
    if (!url) throw new Error('BROKERKIT_REDIS_CLUSTER_URL is not set: start the cluster with eval "$(./scripts/brokers up redis-cluster)"');
    const report = await runFaults({
      backend: 'redis',
      url,
      only: ['node-failover', 'node-pause'],
      nodes: clusterNodesFrom(`${root}scripts/brokers node redis-cluster`),
      runs: 3,
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    await mkdir(`${root}reports`, { recursive: true });
    await writeFile(`${root}reports/faults-redis-cluster.json`, `${JSON.stringify({ ...report, cluster: 'redis-cluster' }, null, 2)}\n`);
    for (const id of ['node-failover', 'node-pause'] as const) {
      const result = report.scenarios[id];
      assert.notEqual(result.status, 'not-run', `${id}: ${result.reason}`);
      assert.ok(result.sent >= 3 * 5_000, `${id}: at least 5 000 keyed messages a run (sent ${result.sent})`);
      assert.ok(result.confirmed <= result.sent && result.handled <= result.sent, `${id}: figures add up`);
      assert.ok(result.lost <= result.confirmed, `${id}: only confirmed messages count as lost`);
      assert.ok(result.handled > 0.9 * result.confirmed, `${id}: the consumers went on after the fault (handled ${result.handled} of ${result.confirmed})`);
      assert.equal(result.details.runs, 3);
    }
  });
});
