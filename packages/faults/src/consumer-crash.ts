import { randomBytes } from 'node:crypto';
import { waitUntil } from '@brokerkit/conformance';
import type { Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { startWorker, type WorkerProcess } from './worker-process.js';

export interface CrashOptions {
  messages: number;
  kills: number;
  consumers: number;
  ackTimeoutMs: number;
  onProgress?: (line: string) => void;
}

/**
 * Consumer processes (concurrency 8 each) take messages while a producer publishes; at random
 * points (after 10–90 % of the messages were handled) one is SIGKILLed and a new one started.
 * Afterwards every confirmed message must have been handled at least once; duplicates and
 * the longest stall are reported.
 */
export async function consumerCrash(broker: Broker, url: string, options: CrashOptions): Promise<ScenarioResult> {
  const queue = `bk-faults-crash-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  const handled = new Map<string, number>();
  let lastProgressAt = Date.now();
  let longestStallMs = 0;
  const members = new Set<WorkerProcess>();
  const start = (): WorkerProcess => {
    const member = startWorker({ url, queue, ackTimeoutMs: options.ackTimeoutMs }, (line) => {
      const now = Date.now();
      if (!handled.has(line)) {
        if (handled.size > 0) longestStallMs = Math.max(longestStallMs, now - lastProgressAt);
        lastProgressAt = now;
      }
      handled.set(line, (handled.get(line) ?? 0) + 1);
    });
    members.add(member);
    return member;
  };
  try {
    for (let i = 0; i < options.consumers; i += 1) start();
    if (!(await waitUntil(() => [...members].every((m) => m.ready), 60_000))) throw new Error('consumer processes did not attach within 60 s');
    lastProgressAt = Date.now();
    const confirmed: string[] = [];
    let sendError: string | undefined;
    const producing = (async () => {
      const producer = broker.producer();
      for (let n = 0; n < options.messages; n += 100) {
        const receipts = await producer.sendBatch(queue, Array.from({ length: Math.min(100, options.messages - n) }, (_, i) => ({ key: `k${(n + i) % 32}`, body: { n: n + i } })));
        confirmed.push(...receipts.map((receipt) => receipt.id));
      }
    })().catch((error: unknown) => {
      sendError = (error as Error).message;
    });
    const killAt = Array.from({ length: options.kills }, () => Math.floor(options.messages * (0.1 + Math.random() * 0.8))).sort((a, b) => a - b);
    let kills = 0;
    for (const threshold of killAt) {
      if (!(await waitUntil(() => handled.size >= threshold, 10 * 60_000))) break;
      const alive = [...members].filter((m) => m.alive);
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (!victim) break;
      victim.child.kill('SIGKILL');
      members.delete(victim);
      kills += 1;
      options.onProgress?.(`consumer-crash: SIGKILL ${kills}/${options.kills} after ${handled.size} handled`);
      start();
    }
    await producing;
    await waitUntil(() => confirmed.every((id) => handled.has(id)), 10 * 60_000);
    const lost = confirmed.filter((id) => !handled.has(id)).length;
    const deliveries = [...handled.values()].reduce((sum, count) => sum + count, 0);
    const duplicates = deliveries - handled.size;
    const failures = [
      sendError && `a send failed: ${sendError}`,
      kills < options.kills && `only ${kills} of ${options.kills} kills happened while messages flowed`,
      lost > 0 && `${lost} confirmed messages were never handled`,
    ].filter(Boolean);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: options.messages,
      confirmed: confirmed.length,
      handled: handled.size,
      lost,
      duplicates,
      recoveryMs: longestStallMs,
      details: { kills, consumers: options.consumers, concurrencyEach: 8, duplicateRate: Math.round((duplicates / Math.max(1, confirmed.length)) * 10_000) / 10_000 },
    };
  } finally {
    for (const member of members) member.child.kill('SIGKILL');
  }
}
