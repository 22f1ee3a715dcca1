// Every program in examples/ runs to its "done" line on memory:// and on real brokers, as a user
// would start it (a process of its own, the broker named by BROKER_URL only).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { waitUntil } from '@brokerkit/conformance';
import { suiteBroker } from './fixtures/suite-broker.js';

const examples = new URL('../examples/', import.meta.url).pathname;
const RUN_TO_END = ['order-service', 'fan-out', 'typed-messages', 'tracing'] as const;

interface Run {
  output: () => string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

/** Start an example from the repository root, as its header says to. */
function start(name: string, brokerUrl: string): Run {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', `${examples}${name}.ts`], {
    env: { ...process.env, BROKER_URL: brokerUrl, EXAMPLE_SUFFIX: `-${randomBytes(4).toString('hex')}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(timer));
  return { output: () => output, exited, kill: (signal) => child.kill(signal) };
}

async function runsToDone(name: string, url: string): Promise<void> {
  const run = start(name, url);
  const code = await run.exited;
  assert.equal(code, 0, `${name} exited ${code}:\n${run.output()}`);
  assert.match(run.output(), /^done: /m, run.output());
  assert.doesNotMatch(run.output(), /Warning|NOT DONE/, 'no warning from Node or a dependency');
}

async function shutsDownGracefully(url: string): Promise<void> {
  const run = start('graceful-shutdown', url);
  assert.ok(await waitUntil(() => /started job \d+/.test(run.output()), 30_000), run.output());
  run.kill('SIGTERM');
  const code = await run.exited;
  const output = run.output();
  assert.equal(code, 0, `exited ${code}:\n${output}`);
  assert.match(output, /closed cleanly in \d+ ms/);
  // Every job started before the signal finished before the process ended.
  const started = [...output.matchAll(/started job (\d+)/g)].map((match) => match[1]);
  const finished = new Set([...output.matchAll(/finished job (\d+)/g)].map((match) => match[1]));
  assert.deepEqual(started.filter((job) => !finished.has(job)), [], output);
}

describe('examples on memory://', () => {
  for (const name of RUN_TO_END) it(`${name} runs to its end`, () => runsToDone(name, 'memory://'));
  it('graceful-shutdown finishes the jobs under way on SIGTERM and exits 0', () => shutsDownGracefully('memory://'));
});

for (const backend of ['redis', 'nats'] as const) {
  describe(`examples on ${backend}`, () => {
    const suite = suiteBroker(backend);
    for (const name of RUN_TO_END) it(`${name} runs to its end`, () => runsToDone(name, suite.url.toString()));
    it('graceful-shutdown finishes the jobs under way on SIGTERM and exits 0', () => shutsDownGracefully(suite.url.toString()));
  });
}
