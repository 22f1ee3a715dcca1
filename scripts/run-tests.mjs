#!/usr/bin/env node
// Runs node:test over TypeScript sources (through tsx, with the workspace's "development"
// export condition so packages are read from src/ without a build).
//   node scripts/run-tests.mjs unit          packages/*/src/**/*.test.ts
//   node scripts/run-tests.mjs conformance   packages/*/test/**/*.test.ts
//   node scripts/run-tests.mjs integration   integration-tests/**/*.test.ts
//   node scripts/run-tests.mjs cluster       packages/*/test/cluster*.test.ts (clusters: start them first)
//   node scripts/run-tests.mjs cluster:NAME  one cluster's: packages/NAME/test/cluster*.test.ts, packages/*/test/cluster-NAME-*.test.ts
//   node scripts/run-tests.mjs all
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const suites = {
  unit: (path) => /^packages\/[^/]+\/src\/.*\.test\.ts$/.test(path),
  conformance: (path) => /^packages\/[^/]+\/test\/.*\.test\.ts$/.test(path) && !/\/test\/cluster[^/]*$/.test(path),
  integration: (path) => /^integration-tests\/.*\.test\.ts$/.test(path),
  cluster: (path) => /^packages\/[^/]+\/test\/cluster[^/]*\.test\.ts$/.test(path),
};

function walk(dir, found = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, found);
    else found.push(relative(root, path));
  }
  return found;
}

const wanted = process.argv[2] ?? 'all';
// cluster:NAME — the tests of one cluster, so each runs while only its cluster is up.
const clusterName = /^cluster:([\w-]+)$/.exec(wanted)?.[1];
if (clusterName) {
  suites[wanted] = (path) =>
    suites.cluster(path) && (path.startsWith(`packages/${clusterName}/test/`) || path.includes(`/test/cluster-${clusterName}-`));
}
// `all`: what runs without clusters (they start one at a time, in a stage of their own).
const selected = wanted === 'all' ? [suites.unit, suites.conformance, suites.integration] : [suites[wanted]];
if (selected.some((s) => s === undefined)) {
  console.error(`unknown suite "${wanted}" (known: ${Object.keys(suites).join(', ')}, all)`);
  process.exit(2);
}
const files = walk(root).filter((path) => selected.some((matches) => matches(path))).sort();
if (files.length === 0) {
  console.error(`no test files for suite "${wanted}"`);
  process.exit(1);
}
// Integration tests restart and kill brokers: one file at a time, so no test shares a broker
// with one that is disrupting it. Unit and conformance files run two at a time (2 cores).
const concurrency = wanted === 'integration' || wanted.startsWith('cluster') || wanted === 'all' ? 1 : (process.env.BROKERKIT_TEST_CONCURRENCY ?? 2);
const args = ['--conditions=development', '--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...process.argv.slice(3), ...files];
const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
