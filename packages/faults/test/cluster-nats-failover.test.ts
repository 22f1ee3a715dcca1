// node-failover and node-pause on the three-node JetStream cluster (`node scripts/run-tests.mjs
// cluster:nats`, cluster started first), streams with three replicas. JetStream acknowledges a
// publish once a majority of the stream's replicas stored it, and elects a new stream leader
// among them: while two of three servers live, nothing acknowledged may be lost. Then the same
// with `sync_interval: always` (every write fsynced before the acknowledgement; the servers are
// restarted one by one with it). A SIGKILL or SIGSTOP of a server does not drop its page cache,
// so these faults cannot show what the setting guards against (an OS crash or a power cut, where
// Jepsen lost acknowledged writes with the default of 2 minutes): the figures show its cost.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { runClusterFailovers } from './cluster-failover.js';

const run = promisify(execFile);
const brokers = new URL('../../../scripts/brokers', import.meta.url).pathname;

/** Restart the three servers one at a time (each keeps its data) with this sync_interval, or the default. */
async function restartWithSyncInterval(interval: string | undefined): Promise<void> {
  if (interval === undefined) delete process.env.BROKERKIT_NATS_SYNC_INTERVAL;
  else process.env.BROKERKIT_NATS_SYNC_INTERVAL = interval;
  for (const node of [1, 2, 3]) await run(brokers, ['bounce', `nats-cluster:${node}`], { env: process.env, timeout: 120_000 });
}

describe('NATS JetStream cluster: a stream leader killed, and paused, while keyed messages flow', () => {
  after(async () => {
    if (process.env.BROKERKIT_NATS_SYNC_INTERVAL !== undefined) await restartWithSyncInterval(undefined);
  });

  it('loses nothing acknowledged, over 3 runs of each', { timeout: 600_000 }, async () => {
    const report = await runClusterFailovers('nats', 'nats-cluster');
    for (const id of ['node-failover', 'node-pause'] as const) assert.equal(report.scenarios[id].lost, 0, `${id}: ${report.scenarios[id].details.run1}`);
  });

  it('loses nothing acknowledged with sync_interval: always either, and says what it costs', { timeout: 900_000 }, async () => {
    await restartWithSyncInterval('always');
    const report = await runClusterFailovers('nats', 'nats-cluster', { name: 'nats-cluster-sync-always', setup: 'sync_interval always' });
    for (const id of ['node-failover', 'node-pause'] as const) assert.equal(report.scenarios[id].lost, 0, `${id}: ${report.scenarios[id].details.run1}`);
  });
});
