import { randomBytes } from 'node:crypto';
import { waitUntil } from '@brokerkit/conformance';
import type { Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { keyAndSeqOf, keyOrderFigures, parseKeyedLine, type Handling } from './key-order.js';
import { startWorker, type WorkerProcess } from './worker-process.js';

export interface CrashOptions {
  messages: number;
  kills: number;
  consumers: number;
  ackTimeoutMs: number;
  /** 'key': the consumers take the queue with ordering 'key'; same-key order across them is counted, and how long a killed one's keys wait. */
  ordering?: 'none' | 'key';
  onProgress?: (line: string) => void;
}

const KEYS = 32;

/**
 * Consumer processes (concurrency 8 each) take messages while a producer publishes; at random
 * points (after 10–90 % of the messages were handled) one is SIGKILLed and a new one started.
 * Afterwards every confirmed message must have been handled at least once; duplicates and
 * the longest stall are reported. With `ordering: 'key'` (scenario key-crash) same-key order
 * across the processes must hold too, and each kill's handover time is reported.
 */
export async function consumerCrash(broker: Broker, url: string, options: CrashOptions): Promise<ScenarioResult> {
  const queue = `bk-faults-crash-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  const handled = new Map<string, number>();
  let lastProgressAt = Date.now();
  let longestStallMs = 0;
  const members = new Set<WorkerProcess>();
  const numbers = new Map<WorkerProcess, number>();
  const keyed = options.ordering === 'key';
  // Keyed: every handling with its process and start time; kills with their victim.
  const handlings: Handling[] = [];
  const killed: { victim: number; at: number }[] = [];
  /** Per process, the keys it handled last (whom to kill: the one holding most keys). */
  const lastBy = new Map<string, WorkerProcess>();
  let workers = 0;
  const start = (): WorkerProcess => {
    const number = ++workers;
    const member: WorkerProcess = startWorker({ url, queue, ackTimeoutMs: options.ackTimeoutMs, ...(keyed ? { mode: 'key' as const } : {}) }, (text) => {
      const now = Date.now();
      const { id: line, startedAt } = parseKeyedLine(text);
      if (!handled.has(line)) {
        if (handled.size > 0) longestStallMs = Math.max(longestStallMs, now - lastProgressAt);
        lastProgressAt = now;
      }
      handled.set(line, (handled.get(line) ?? 0) + 1);
      if (keyed) {
        const { key, seq } = keyAndSeqOf(line);
        handlings.push({ key, seq, by: number, startedAt: startedAt ?? now });
        lastBy.set(key, member);
      }
    });
    numbers.set(member, number);
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
        // Keyed: each message names its key and place (`<queue>:k7:12`), for the order count.
        const batch = Array.from({ length: Math.min(100, options.messages - n) }, (_, i) => {
          const key = `k${(n + i) % KEYS}`;
          return { key, body: { n: n + i }, ...(keyed ? { id: `${queue}:${key}:${Math.floor((n + i) / KEYS)}` } : {}) };
        });
        const receipts = await producer.sendBatch(queue, batch);
        confirmed.push(...receipts.map((receipt) => receipt.id));
      }
    })().catch((error: unknown) => {
      sendError = (error as Error).message;
    });
    // Keyed: kills spread evenly (each one's handover measured apart), of the process holding the most keys.
    const killAt = keyed
      ? Array.from({ length: options.kills }, (_, i) => Math.floor((options.messages * (i + 1)) / (options.kills + 1)))
      : Array.from({ length: options.kills }, () => Math.floor(options.messages * (0.1 + Math.random() * 0.8))).sort((a, b) => a - b);
    let kills = 0;
    for (const threshold of killAt) {
      if (!(await waitUntil(() => handled.size >= threshold, 10 * 60_000))) break;
      const alive = [...members].filter((m) => m.alive);
      const victim = keyed ? busiest(alive, lastBy) : alive[Math.floor(Math.random() * alive.length)];
      if (!victim) break;
      victim.child.kill('SIGKILL');
      killed.push({ victim: numbers.get(victim) as number, at: Date.now() });
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
    const order = keyed ? keyOrderFigures(handlings, killed) : undefined;
    const failures = [
      sendError && `a send failed: ${sendError}`,
      kills < options.kills && `only ${kills} of ${options.kills} kills happened while messages flowed`,
      lost > 0 && `${lost} confirmed messages were never handled`,
      order && order.violations > 0 && `${order.violations} messages ran before an earlier one of their key`,
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
      details: {
        kills,
        consumers: options.consumers,
        concurrencyEach: 8,
        duplicateRate: Math.round((duplicates / Math.max(1, confirmed.length)) * 10_000) / 10_000,
        ...(order ? { ordering: 'key', violations: order.violations, handoverMs: order.handoverMs.join(', '), longestHandoverMs: Math.max(0, ...order.handoverMs) } : {}),
      },
    };
  } finally {
    for (const member of members) member.child.kill('SIGKILL');
  }
}

/** The process that last handled the most keys: killing it moves the most. */
function busiest(alive: WorkerProcess[], lastBy: Map<string, WorkerProcess>): WorkerProcess | undefined {
  const counts = new Map<WorkerProcess, number>();
  for (const by of lastBy.values()) counts.set(by, (counts.get(by) ?? 0) + 1);
  return [...alive].sort((a, b) => (counts.get(b) ?? 0) - (counts.get(a) ?? 0))[0];
}
