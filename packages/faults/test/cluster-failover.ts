// What the cluster failover tests share: run node-failover and node-pause (3 runs each) on one
// cluster, write the figures to reports/faults-CLUSTER.json for the matrix, and check that the
// scenarios ran and their figures add up. Whether confirmed messages may be lost is the
// broker's to say: each test states what its broker promises.
import { strict as assert } from 'node:assert';
import { mkdir, writeFile } from 'node:fs/promises';
import { startBrokers, type ClusterName } from '@brokerkit/testing';
import { clusterNodesFrom, runFaults, type FaultsReport } from '../src/index.js';

const root = new URL('../../../', import.meta.url).pathname;

export interface ClusterFailoverOptions {
  /** URL options for the adapter (e.g. `waitReplicas=1`), and the row's name then. */
  urlOptions?: string;
  /** The row in the matrix and the report file: reports/faults-NAME.json. */
  name?: string;
  /** How the cluster was set up, when not as `scripts/brokers` starts it (shown with its name). */
  setup?: string;
}

export async function runClusterFailovers(backend: string, cluster: ClusterName, options: ClusterFailoverOptions = {}): Promise<FaultsReport> {
  const brokers = await startBrokers([cluster]);
  const base = brokers.urls[cluster] ?? '';
  const url = options.urlOptions ? `${base}${base.includes('?') ? '&' : '?'}${options.urlOptions}` : base;
  const name = options.name ?? cluster;
  const report = await runFaults({
    backend,
    url,
    only: ['node-failover', 'node-pause'],
    nodes: clusterNodesFrom(`${root}scripts/brokers node ${cluster}`),
    runs: 3,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  await mkdir(`${root}reports`, { recursive: true });
  await writeFile(`${root}reports/faults-${name}.json`, `${JSON.stringify({ ...report, cluster: options.setup || options.urlOptions ? `${cluster} (${options.setup ?? options.urlOptions})` : cluster }, null, 2)}\n`);
  await brokers.stop();
  for (const id of ['node-failover', 'node-pause'] as const) {
    const result = report.scenarios[id];
    assert.notEqual(result.status, 'not-run', `${id}: ${result.reason}`);
    assert.ok(result.sent >= 3 * 5_000, `${id}: at least 5 000 keyed messages a run (sent ${result.sent})`);
    assert.ok(result.confirmed <= result.sent && result.handled <= result.sent, `${id}: figures add up`);
    assert.ok(result.lost <= result.confirmed, `${id}: only confirmed messages count as lost`);
    assert.ok(result.handled > 0.9 * result.confirmed, `${id}: the consumers went on after the fault (handled ${result.handled} of ${result.confirmed})`);
    assert.equal(result.details.runs, 3);
  }
  return report;
}
