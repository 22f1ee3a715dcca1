import { strict as assert } from 'node:assert';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const mainPath = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Run the CLI as a user would: a child process, exit code and both streams captured. */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', mainPath, ...args], { env: { ...process.env, NO_COLOR: '1', BROKERKIT_KAFKA_URL: '' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const [code] = (await once(child, 'close')) as [number];
  return { code, out, err };
}

describe('brokerkit CLI', () => {
  it('compare writes the JSON, Markdown and HTML reports in the documented shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'brokerkit-cli-'));
    const files = { json: join(dir, 'r.json'), md: join(dir, 'r.md'), html: join(dir, 'r.html') };
    const { code, out, err } = await run('compare', '--only', 'round-trip,fan-out', '--json', files.json, '--markdown', files.md, '--html', files.html);
    assert.equal(code, 0, err);
    assert.match(out, /round-trip.*pass/);
    assert.match(err, /memory \[ 1\/2\] ✔ round-trip/);
    const report = JSON.parse(await readFile(files.json, 'utf8'));
    assert.ok(!Number.isNaN(Date.parse(report.generatedAt)));
    const memory = report.backends.memory;
    assert.equal(memory.url, 'memory://');
    assert.equal(memory.capabilities.deadLetter, 'native');
    assert.deepEqual(Object.keys(memory.checks), ['round-trip', 'fan-out']);
    assert.equal(memory.checks['fan-out'].status, 'pass');
    assert.equal(memory.checks['fan-out'].figures.missing, 0);
    const markdown = await readFile(files.md, 'utf8');
    assert.match(markdown, /\| `fan-out` .* \| ✅ pass · subscriptions 3, [^|]* \|/, 'the outcome with its figures');
    assert.ok(markdown.indexOf('## What each backend guarantees') < markdown.indexOf('## Where the backends differ'), 'the summary leads');
    const html = await readFile(files.html, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.doesNotMatch(html, /<script|https?:\/\//, 'self-contained: no scripts, no external resources');
  });

  it('exits 1 and says why when a backend fails', async () => {
    const { code, out } = await run('compare', '--backends', 'redis', '--url', 'redis=nosuchscheme://x', '--only', 'round-trip');
    assert.equal(code, 1);
    assert.match(out, /redis.*unreachable.*not a known broker/);
  });

  it('exits 2 with a clear message for a backend without a URL, a bad --url and an unknown check', async () => {
    const noUrl = await run('compare', '--backends', 'kafka');
    assert.equal(noUrl.code, 2);
    assert.match(noUrl.err, /BROKERKIT_KAFKA_URL/);
    const badUrl = await run('compare', '--url', 'redis');
    assert.equal(badUrl.code, 2);
    assert.match(badUrl.err, /NAME=URL/);
    const unknown = await run('conformance', '--backend', 'memory', '--only', 'telepathy');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown check telepathy/);
  });

  it('conformance prints per-check figures and a passed/failed line', async () => {
    const { code, out } = await run('conformance', '--backend', 'memory', '--only', 'concurrency-limit');
    assert.equal(code, 0);
    assert.match(out, /pass\s+concurrency-limit\s+limit=4\s+maxObserved=4/);
    assert.match(out, /1 passed, 0 failed, 0 unsupported/);
  });

  it('doctor reports the embedded broker with its version', async () => {
    const { code, out } = await run('doctor');
    // Every configured broker is checked: the output names the one that failed.
    assert.equal(code, 0, out);
    assert.match(out, /memory\s+reachable\s+brokerkit-memory/);
  });
  it('bench measures memory against its floor (an in-process array queue) at two backlogs, writes the documented JSON, and compare --bench shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'brokerkit-bench-'));
    const file = join(dir, 'bench.json');
    const bench = await run('bench', '--backend', 'memory', '--messages', '100,200', '--rounds', '1', '--json', file);
    assert.equal(bench.code, 0, bench.err);
    assert.match(bench.err, /memory \[1\/3\] sdk round 1: produce \d+ msg\/s/);
    assert.match(bench.err, /memory \[2\/3\] raw round 1: produce \d+ msg\/s/);
    assert.match(bench.err, /memory \[3\/3\] taking turns, round 1: sdk \d+ single sends\/s, p50 [\d.]+ ms, p99 [\d.]+ ms/);
    assert.match(bench.out, /consume with ack/);
    // One line per backlog, consume CPU against the smallest one's.
    assert.match(bench.out, /memory backlog/);
    assert.match(bench.out, /│ 100 +│.*│ 1\.00× +│/);
    assert.match(bench.out, /│ 200 +│.*│ \d+\.\d\d× +│/);
    const report = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(report.backend, 'memory');
    assert.equal(report.messages, 200, 'the last backlog is the report');
    assert.deepEqual(report.backlogs.map((each: { messages: number }) => each.messages), [100, 200]);
    for (const key of ['produceMsgsPerSec', 'consumeMsgsPerSec', 'p50Ms', 'p99Ms', 'p50InTurnsMs', 'p99InTurnsMs', 'peakRssBytes']) assert.ok(report.sdk[key] > 0, `${key} measured`);
    assert.ok(report.raw.consumeMsgsPerSec > 0, 'the floor is measured too');
    assert.ok(report.ratios.consume > 0, 'and the ratio to it');
    const markdown = join(dir, 'r.md');
    const compared = await run('compare', '--only', 'round-trip', '--bench', file, '--markdown', markdown);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, /cost \(brokerkit bench\)/);
    assert.match(await readFile(markdown, 'utf8'), new RegExp(`produce: brokerkit / raw \\| ${report.sdk.produceMsgsPerSec} / ${report.raw.produceMsgsPerSec} msg/s`));
  });

  it('bench rejects bad numbers and unknown backends with a usage error', async () => {
    const badNumber = await run('bench', '--backend', 'memory', '--messages', 'many');
    assert.equal(badNumber.code, 2);
    assert.match(badNumber.err, /--messages must be a positive whole number, got "many"/);
    const badInList = await run('bench', '--backend', 'memory', '--messages', '100,,200');
    assert.equal(badInList.code, 2);
    assert.match(badInList.err, /--messages must be a positive whole number, got ""/);
    const unknown = await run('bench', '--backend', 'activemq');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown backend "activemq"/);
  });
  it('bench --batch measures a batch handler against single handlers, with and without a wait per call, and writes JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'brokerkit-bench-batch-'));
    const file = join(dir, 'batch.json');
    const bench = await run('bench', '--backend', 'memory', '--batch', '50', '--messages', '2000', '--rounds', '1', '--json', file);
    assert.equal(bench.code, 0, bench.err);
    assert.match(bench.err, /memory call 1 ms, round 1: batch \d+ msg\/s \(mean batch [\d.]+\)/);
    assert.match(bench.out, /consume, handler waits 1 ms a call/);
    const report = JSON.parse(await readFile(file, 'utf8')) as { batch: number; rows: { callMs: number; singleMsgsPerSec: number; batchMsgsPerSec: number; ratio: number }[] };
    assert.equal(report.batch, 50);
    assert.deepEqual(report.rows.map((row) => row.callMs), [0, 1]);
    for (const row of report.rows) assert.ok(row.singleMsgsPerSec > 0 && row.batchMsgsPerSec > 0 && row.ratio > 0, JSON.stringify(row));
    const badBatch = await run('bench', '--backend', 'memory', '--batch', '0');
    assert.equal(badBatch.code, 2);
    assert.match(badBatch.err, /--batch must be a positive whole number, got "0"/);
  });
  it('faults runs poison and bad input on memory, says why the crash scenario does not apply, and compare --faults shows it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'brokerkit-faults-'));
    const file = join(dir, 'faults.json');
    const faults = await run('faults', '--backend', 'memory', '--json', file);
    assert.equal(faults.code, 0, faults.err);
    const report = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(report.scenarios.poison.status, 'pass');
    assert.equal(report.scenarios.poison.lost, 0);
    assert.equal(report.scenarios['bad-input'].status, 'pass');
    assert.equal(report.scenarios['consumer-crash'].status, 'not-run');
    assert.match(report.scenarios['consumer-crash'].reason, /one process/);
    assert.equal(report.scenarios['crash-recovery'].status, 'not-run');
    const compared = await run('compare', '--only', 'round-trip', '--faults', file);
    assert.equal(compared.code, 0, compared.err);
    assert.match(compared.out, /poison\s+│ pass: 0 lost, 0 dup of 21/);
  });
});
