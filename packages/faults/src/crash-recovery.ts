import { randomBytes } from 'node:crypto';
import { Tally, waitUntil } from '@brokerkit/conformance';
import type { Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { startWorker, type WorkerProcess } from './worker-process.js';

/** The survivor's concurrency: an ordinary consumer's, not one sized for the backlog. */
const SURVIVOR_CONCURRENCY = 16;

export interface RecoveryOptions {
  /** Messages the crashed consumer holds, one round each (default 100 and 1 000). */
  held: readonly number[];
  ackTimeoutMs: number;
  /** What bounds recovery on this backend, and how long it is. */
  lease: { ms: number; reason: string };
  onProgress?: (line: string) => void;
}

/** How long a backend keeps a crashed consumer's messages from the others, and why. */
export function recoveryLease(backend: string, ackTimeoutMs: number): { ms: number; reason: string } {
  switch (backend) {
    case 'rabbitmq':
      return { ms: 0, reason: 'the broker requeues a closed connection\'s unacked messages at once' };
    case 'kafka':
      return { ms: 10_000, reason: 'the group notices the dead member after the session timeout (10 s), then rebalances' };
    case 'pubsub':
      return { ms: Math.max(10_000, ackTimeoutMs), reason: 'the ack deadline, at least 10 s on Pub/Sub' };
    case 'sqs':
      return { ms: Math.ceil(ackTimeoutMs / 1_000) * 1_000, reason: 'the visibility timeout (ackTimeoutMs, whole seconds)' };
    case 'nats':
      return { ms: ackTimeoutMs, reason: "the consumer's ack wait (ackTimeoutMs): the server redelivers what the dead connection held after it" };
    default:
      return { ms: ackTimeoutMs, reason: 'the lease: entries idle longer than ackTimeoutMs are claimed by a survivor' };
  }
}

/**
 * A consumer holds N messages in handlers that never finish and is SIGKILLed; a survivor
 * already attached to the queue must handle all N. Reports, per N, the seconds from the kill
 * until the survivor handled the last of them, beside the lease that bounds it.
 */
export async function crashRecovery(broker: Broker, url: string, options: RecoveryOptions): Promise<ScenarioResult> {
  const details: Record<string, number | string> = { leaseMs: options.lease.ms, lease: options.lease.reason, survivorConcurrency: SURVIVOR_CONCURRENCY };
  const problems: string[] = [];
  let sent = 0;
  let confirmed = 0;
  let handledAll = 0;
  let lostAll = 0;
  let duplicates = 0;
  let slowest = 0;
  for (const count of options.held) {
    const round = await recoverOnce(broker, url, count, options);
    sent += count;
    confirmed += round.confirmed;
    handledAll += round.handled;
    lostAll += round.lost;
    duplicates += round.duplicates;
    if (round.problem) problems.push(`held ${count}: ${round.problem}`);
    if (round.recoveryMs !== undefined) {
      slowest = Math.max(slowest, round.recoveryMs);
      details[`recovery${count}Ms`] = round.recoveryMs;
      details[`beyondLease${count}Ms`] = round.recoveryMs - options.lease.ms;
    }
    options.onProgress?.(`crash-recovery: held ${count}, recovered in ${round.recoveryMs ?? '—'} ms (lease ${options.lease.ms} ms)`);
  }
  return {
    status: problems.length === 0 ? 'pass' : 'fail',
    ...(problems.length ? { reason: problems.join('; ') } : {}),
    sent,
    confirmed,
    handled: handledAll,
    lost: lostAll,
    duplicates,
    recoveryMs: slowest,
    details,
  };
}

interface RoundResult {
  confirmed: number;
  handled: number;
  lost: number;
  duplicates: number;
  recoveryMs?: number;
  problem?: string;
}

async function recoverOnce(broker: Broker, url: string, count: number, options: RecoveryOptions): Promise<RoundResult> {
  const queue = `bk-faults-recovery-${count}-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  // No keys: where a queue orders by key (Pub/Sub), a key has one message out at a time, and the holder must hold all.
  const receipts = await broker.producer().sendBatch(queue, Array.from({ length: count }, (_, n) => ({ body: { n } })));
  const ids = receipts.map((receipt) => receipt.id);
  const held = new Set<string>();
  const handled = new Tally();
  const workers: WorkerProcess[] = [];
  try {
    const holder = startWorker({ url, queue, ackTimeoutMs: options.ackTimeoutMs, mode: 'hold', concurrency: count }, (line) => held.add(line.slice('held '.length)));
    workers.push(holder);
    if (!(await waitUntil(() => held.size >= count, 180_000))) return { confirmed: ids.length, handled: 0, lost: 0, duplicates: 0, problem: `the holder took only ${held.size} of ${count} within 180 s` };
    const survivor = startWorker({ url, queue, ackTimeoutMs: options.ackTimeoutMs, concurrency: SURVIVOR_CONCURRENCY }, (line) => handled.record(line));
    workers.push(survivor);
    if (!(await waitUntil(() => survivor.ready, 60_000))) return { confirmed: ids.length, handled: 0, lost: 0, duplicates: 0, problem: 'the survivor did not attach within 60 s' };
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    const deadlineMs = options.lease.ms + 180_000;
    const recovered = await waitUntil(() => handled.hasAll(ids), deadlineMs);
    const recoveryMs = Date.now() - killedAt;
    const lost = handled.missingFrom(ids).length;
    return {
      confirmed: ids.length,
      handled: handled.distinct,
      lost,
      duplicates: handled.duplicates,
      ...(recovered ? { recoveryMs } : { problem: `${lost} of ${count} still unhandled ${Math.round(deadlineMs / 1_000)} s after the kill` }),
    };
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
  }
}
