import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from '@brokerkit/core';
import { waitUntil } from '@brokerkit/conformance';
import { startBrokers } from '@brokerkit/testing';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';

const fixture = fileURLToPath(new URL('./fixtures/soak-consumer.ts', import.meta.url));
const ACK_TIMEOUT_MS = 2_000;
const CONSUMERS = 2;
const KILLS = Number(process.env.BROKERKIT_SOAK_KILLS ?? 5);
/**
 * Messages per backend: 20 000 by default (BROKERKIT_SOAK_MESSAGES overrides). The SQS
 * emulator (moto) scans its whole queue on every receive, so 20 000 queued messages would
 * take it hours: it gets 2 000 unless told otherwise.
 */
const messagesFor = (backend: string): number => Number(process.env.BROKERKIT_SOAK_MESSAGES ?? (backend === 'sqs' ? 2_000 : 20_000));

interface Member {
  child: ChildProcess;
  ready: boolean;
}

describe('crash soak: consumer processes SIGKILLed at random while a producer publishes', () => {
  for (const backend of BACKENDS_UNDER_TEST) {
    it(`${backend}: every message handled at least once; duplicates counted`, { timeout: 15 * 60_000 }, async () => {
      const total = messagesFor(backend);
      const brokers = await startBrokers([backend]);
      after(() => brokers.stop());
      const url = brokers.urls[backend] as string;
      const queue = `bk-soak-${randomBytes(4).toString('hex')}`;
      const broker = await connect(url);
      after(() => broker.close());
      await broker.ensureQueue(queue);

      const handled = new Map<string, number>();
      const members = new Set<Member>();
      const start = (): Member => {
        const child = spawn(process.execPath, ['--conditions=development', '--import', 'tsx', fixture, url, queue, String(ACK_TIMEOUT_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
        const member: Member = { child, ready: false };
        let partial = '';
        child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
          const lines = (partial + chunk).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (line === 'ready') member.ready = true;
            else if (line) handled.set(line, (handled.get(line) ?? 0) + 1);
          }
        });
        members.add(member);
        return member;
      };
      after(() => {
        for (const member of members) member.child.kill('SIGKILL');
      });
      for (let i = 0; i < CONSUMERS; i += 1) start();
      assert.ok(await waitUntil(() => [...members].every((m) => m.ready), 60_000), 'consumer processes attached');

      const sent: string[] = [];
      const producing = (async () => {
        const producer = broker.producer();
        for (let n = 0; n < total; n += 100) {
          const receipts = await producer.sendBatch(queue, Array.from({ length: Math.min(100, total - n) }, (_, i) => ({ key: `k${(n + i) % 32}`, body: { n: n + i } })));
          sent.push(...receipts.map((receipt) => receipt.id));
        }
      })();

      // Kill at random points while messages flow: after 10–90 % of the messages are handled.
      const killAt = Array.from({ length: KILLS }, () => Math.floor(total * (0.1 + Math.random() * 0.8))).sort((a, b) => a - b);
      let kills = 0;
      for (const threshold of killAt) {
        if (!(await waitUntil(() => handled.size >= threshold, 10 * 60_000))) break;
        const victims = [...members].filter((m) => m.child.exitCode === null && m.child.signalCode === null);
        const victim = victims[Math.floor(Math.random() * victims.length)];
        if (!victim) break;
        victim.child.kill('SIGKILL');
        members.delete(victim);
        kills += 1;
        start();
      }
      await producing;
      const drained = await waitUntil(() => sent.every((id) => handled.has(id)), 10 * 60_000);
      const missing = sent.filter((id) => !handled.has(id));
      const deliveries = [...handled.values()].reduce((sum, count) => sum + count, 0);
      const duplicates = deliveries - handled.size;
      process.stdout.write(`crash soak ${backend}: ${sent.length} sent, ${kills} SIGKILLs, ${handled.size} handled, ${missing.length} missing, ${duplicates} duplicates (${((duplicates / Math.max(1, sent.length)) * 100).toFixed(2)} %)\n`);
      assert.equal(kills, KILLS, 'every planned kill happened while messages flowed');
      assert.ok(drained, `${missing.length} messages never handled, e.g. ${missing.slice(0, 3).join(', ')}`);
    });
  }
});
