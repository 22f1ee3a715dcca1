import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { connect, type Broker } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { brokersUnderTest } from './fixtures/brokers-under-test.js';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';

const MESSAGES = 1_000;
const cli = fileURLToPath(new URL('../packages/cli/src/main.ts', import.meta.url));

interface Run {
  /** Resolves with the exit code (null when killed) and what it printed. */
  exited: Promise<{ code: number | null; stdout: string }>;
  kill(): void;
}

/** `brokerkit dlq replay` as a process of its own, as a user runs it. */
function replay(url: string, subscription: string, extra: string[] = []): Run {
  const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', cli, 'dlq', 'replay', '--url', url, '--subscription', subscription, ...extra], { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  return { exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout }))), kill: () => child.kill('SIGKILL') };
}

/**
 * Dead-letter replay at scale, through the CLI (issue 33): 1 000 messages dead-lettered for real;
 * a replay of 400 (`--limit`), whose figures are the replay rate; then a replay SIGKILLed
 * halfway through the other 600; then replays again until everything arrived. Nothing may be
 * lost (each of the 1 000 reaches the fixed consumer), the dead-letter queue ends empty, and
 * the duplicates a crash leaves are counted (at most one batch of 100 the killed run had sent
 * but not yet acknowledged, plus redeliveries of the consumer's own).
 */
describe('dead-letter replay through the CLI, SIGKILLed halfway', () => {
  const urls = brokersUnderTest();

  for (const backend of BACKENDS_UNDER_TEST) {
    it(`${backend}: nothing lost, the dead-letter queue emptied`, { timeout: 300_000 }, async (t) => {
      const url = urls[backend] as string;
      const queue = `bk-dlq-kill-${randomBytes(4).toString('hex')}`;
      const broker: Broker = await connect(url);
      try {
        let fixed = false;
        const arrived = new Map<string, number>();
        const failed = new Set<string>();
        await broker.consumer(
          queue,
          async (message) => {
            if (!fixed) {
              failed.add(message.id);
              throw new Error('not fixed yet');
            }
            arrived.set(message.id, (arrived.get(message.id) ?? 0) + 1);
          },
          { concurrency: 16, retry: { maxAttempts: 1 }, onError: () => undefined },
        );
        const ids = Array.from({ length: MESSAGES }, (_, n) => `${queue}-${n}`);
        for (let from = 0; from < MESSAGES; from += 100) {
          await broker.producer().sendBatch(queue, ids.slice(from, from + 100).map((id, n) => ({ id, key: `k${n % 10}`, body: { id } })));
        }
        const dead = broker.deadLetters(queue);
        const countDead = async (): Promise<number> => (broker.capabilities.backlog === 'none' ? -1 : (await broker.backlog(`${queue}.dlq`)).messages);
        assert.ok(await waitUntil(() => failed.size >= MESSAGES, 120_000), `only ${failed.size} of ${MESSAGES} reached the failing handler`);
        // Where the broker counts it, until all are in the dead-letter queue; else a moment for the last sends.
        if (broker.capabilities.backlog !== 'none') assert.ok(await waitUntil(async () => (await countDead()) >= MESSAGES, 60_000), `only ${await countDead()} of ${MESSAGES} were dead-lettered`);
        else await new Promise((resolve) => setTimeout(resolve, 3_000));
        fixed = true;

        const first = await replay(url, queue, ['--limit', '400']).exited;
        assert.equal(first.code, 0, first.stdout);
        assert.match(first.stdout, /^replayed 400, /);
        t.diagnostic(`${backend} first replay: ${first.stdout.trim()}`);

        const killed = replay(url, queue);
        const midway = await waitUntil(() => arrived.size >= 450, 60_000, 2);
        killed.kill();
        const { code } = await killed.exited;
        const atKill = arrived.size;
        t.diagnostic(`${backend} SIGKILLed with ${atKill} of ${MESSAGES} arrived (exit ${code})`);
        assert.ok(midway, `the second replay never got going: ${arrived.size} arrived`);

        // Replay again until everything arrived: what the killed run held comes back after its lease.
        const deadline = Date.now() + 180_000;
        let runs = 0;
        while (arrived.size < MESSAGES && Date.now() < deadline) {
          runs += 1;
          const again = await replay(url, queue).exited;
          assert.equal(again.code, 0, again.stdout);
          await waitUntil(() => arrived.size >= MESSAGES, 3_000);
        }
        const missing = ids.filter((id) => !arrived.has(id));
        const duplicates = [...arrived.values()].reduce((sum, n) => sum + n - 1, 0);
        t.diagnostic(`${backend} after the kill: ${runs} more replay runs; ${missing.length} missing, ${duplicates} duplicates`);
        assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${MESSAGES} never arrived`);
        assert.ok(atKill < MESSAGES, 'the kill came after the replay had finished: nothing was shown');
        const left = await dead.peek({ limit: 10, idleMs: 1_000 });
        assert.deepEqual(left.map((letter) => letter.id), [], 'the dead-letter queue still holds messages');
      } finally {
        await broker.close();
      }
    });
  }
});
