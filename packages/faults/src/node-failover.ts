import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { pause, waitUntil } from '@brokerkit/conformance';
import type { Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { keyAndSeqOf, keyOrderFigures, parseKeyedLine } from './key-order.js';
import { startWorker, type WorkerProcess } from './worker-process.js';

/** What the harness needs of a cluster: who leads a queue's data, and a hand on each node's process. */
export interface ClusterNodes {
  /** The node leading `queue` now (the partition leader, the quorum queue's leader, the primary of the slot). */
  leaderOf(queue: string): Promise<string>;
  signal(node: string, signal: 'KILL' | 'STOP' | 'CONT'): Promise<void>;
  /** Start a killed node again; resolves once the cluster is whole. */
  revive(node: string): Promise<void>;
}

export interface FailoverOptions {
  /** `kill`: SIGKILL the leader, revive it later. `pause`: SIGSTOP it for `pauseMs`, then SIGCONT. */
  fault: 'kill' | 'pause';
  nodes: ClusterNodes;
  /** Keyed messages per run (at least 5 000 in the issue's terms). */
  messages: number;
  /** Sends per second, spread over the keys. */
  ratePerSec: number;
  keys: number;
  runs: number;
  ackTimeoutMs: number;
  /** How long the leader stays stopped (pause) or dead before it is revived (kill). */
  downMs: number;
  onProgress?: (line: string) => void;
}

interface RunFigures {
  leader: string;
  queue: string;
  sent: number;
  confirmed: number;
  failedSends: number;
  handled: number;
  lost: number;
  duplicates: number;
  orderViolations: number;
  longestWithoutSendMs: number;
  longestWithoutDeliveryMs: number;
  /** From the fault until a second of deliveries is back to 80 % of the rate before it; null if it never was. */
  throughputBackMs: number | null;
  /** The last failed send's error, as the application saw it. */
  lastSendError?: string;
  /** Up to ten lost ids (key:seq), to look them up on the broker. */
  lostIds?: string[];
}


/**
 * While a producer sends keyed messages at a steady rate and two consumer processes handle
 * them with ordering 'key', the node leading the queue is killed (or stopped) and later
 * brought back. Each message's id is `key:seq`, so the harness counts, per run: sent,
 * confirmed (the send resolved), handled, confirmed but never handled (lost), duplicates,
 * same-key order violations, the longest time without a successful send and without a
 * delivery, and how long until throughput is back. A send that failed is never counted lost.
 */
export async function nodeFailover(broker: Broker, url: string, options: FailoverOptions): Promise<ScenarioResult> {
  const runs: RunFigures[] = [];
  for (let run = 1; run <= options.runs; run += 1) {
    const figures = await failoverOnce(broker, url, options);
    runs.push(figures);
    options.onProgress?.(
      `node-${options.fault === 'kill' ? 'failover' : 'pause'} run ${run}/${options.runs} (${figures.leader}): sent ${figures.sent}, confirmed ${figures.confirmed}, handled ${figures.handled}, lost ${figures.lost}, duplicates ${figures.duplicates}, order violations ${figures.orderViolations}, no send for ${figures.longestWithoutSendMs} ms, no delivery for ${figures.longestWithoutDeliveryMs} ms, throughput back after ${figures.throughputBackMs ?? '—'} ms`,
    );
  }
  const sum = (key: keyof RunFigures): number => runs.reduce((total, each) => total + (each[key] as number), 0);
  const worst = (key: keyof RunFigures): number => Math.max(...runs.map((each) => (each[key] as number | null) ?? Number.POSITIVE_INFINITY));
  const details: Record<string, number | string> = {
    runs: runs.length,
    failedSends: sum('failedSends'),
    orderViolations: sum('orderViolations'),
    longestWithoutSendMs: worst('longestWithoutSendMs'),
    longestWithoutDeliveryMs: worst('longestWithoutDeliveryMs'),
    fault: options.fault === 'kill' ? `SIGKILL the leader, revive it ${options.downMs} ms later` : `SIGSTOP the leader for ${options.downMs} ms, then SIGCONT`,
  };
  runs.forEach((each, index) => {
    details[`run${index + 1}`] = `${each.leader}: sent ${each.sent}, confirmed ${each.confirmed}, lost ${each.lost}, duplicates ${each.duplicates}, violations ${each.orderViolations}, no send ${each.longestWithoutSendMs} ms, no delivery ${each.longestWithoutDeliveryMs} ms, back after ${each.throughputBackMs === null ? 'never (within the run)' : `${each.throughputBackMs} ms`}${each.lastSendError ? `; last failed send: ${each.lastSendError}` : ''}${each.lostIds ? `; lost ids of ${each.queue}: ${each.lostIds.join(' ')}` : ''}`;
  });
  const lost = sum('lost');
  const violations = sum('orderViolations');
  // Order across the two consumer processes is judged only where the backend promises it.
  const orderPromised = broker.capabilities.ordering === 'per-key';
  if (!orderPromised) details.orderNote = `not judged: the backend keeps key order within one instance only (ordering '${broker.capabilities.ordering}')`;
  const problems = [...(lost > 0 ? [`${lost} confirmed message(s) never handled`] : []), ...(violations > 0 && orderPromised ? [`${violations} same-key order violation(s)`] : [])];
  const back = runs.map((each) => each.throughputBackMs);
  return {
    status: problems.length === 0 ? 'pass' : 'fail',
    ...(problems.length ? { reason: problems.join('; ') } : {}),
    sent: sum('sent'),
    confirmed: sum('confirmed'),
    handled: sum('handled'),
    lost,
    duplicates: sum('duplicates'),
    recoveryMs: back.includes(null) ? null : Math.max(...(back as number[])),
    details,
  };
}

async function failoverOnce(broker: Broker, url: string, options: FailoverOptions): Promise<RunFigures> {
  const queue = `faults-failover-${randomBytes(4).toString('hex')}`;
  await broker.ensureQueue(queue);
  const leader = await options.nodes.leaderOf(queue);
  // Handled ids in arrival order, with when each arrived, and when and where its handler started.
  const arrivals: Arrival[] = [];
  const workers: WorkerProcess[] = [0, 1].map((by) => startWorker({ url, queue, ackTimeoutMs: options.ackTimeoutMs, mode: 'key', concurrency: 8 }, (line) => arrivals.push({ ...parseKeyedLine(line), by, at: Date.now() })));
  let revived = true;
  try {
    if (!(await waitUntil(() => workers.every((worker) => worker.ready), 30_000))) throw new Error('the consumer processes did not attach within 30 s');
    const producer = broker.producer();
    const confirmed = new Set<string>();
    const confirmations: number[] = [];
    let sent = 0;
    let failedSends = 0;
    let lastSendError: string | undefined;
    const perKey = Math.ceil(options.messages / options.keys);
    const gapMs = (1_000 * options.keys) / options.ratePerSec;
    const started = Date.now();
    const runMs = perKey * gapMs;
    // The fault lands a third of the way in; the leader comes back `downMs` later.
    const faultAt = started + runMs / 3;
    let faultedAt = 0;
    const fault = (async () => {
      await pause(faultAt - Date.now());
      faultedAt = Date.now();
      revived = false;
      await options.nodes.signal(leader, options.fault === 'kill' ? 'KILL' : 'STOP');
      await pause(options.downMs);
      if (options.fault === 'kill') await options.nodes.revive(leader);
      else await options.nodes.signal(leader, 'CONT');
      revived = true;
    })();
    // One loop per key, each send awaited before the key's next: same-key order is the
    // producer's to keep, and the keys together keep the rate.
    let producerEnded = 0;
    await Promise.all(
      Array.from({ length: options.keys }, async (_, key) => {
        await pause((key * gapMs) / options.keys);
        for (let seq = 0; seq < perKey && sent < options.messages; seq += 1) {
          const due = started + (key * gapMs) / options.keys + seq * gapMs;
          await pause(due - Date.now());
          const id = `k${key}:${seq}`;
          sent += 1;
          try {
            await producer.send(queue, { id, key: `k${key}`, body: { key, seq } });
            confirmed.add(id);
            confirmations.push(Date.now());
          } catch (error) {
            failedSends += 1;
            lastSendError = (error as Error).message;
          }
        }
      }),
    );
    producerEnded = Date.now();
    await fault;
    const handledIds = (): Set<string> => new Set(arrivals.map((arrival) => arrival.id));
    const allHandled = (): boolean => {
      const handled = handledIds();
      for (const id of confirmed) if (!handled.has(id)) return false;
      return true;
    };
    // Lost means never handled, not late: a consumer whose fetch hangs on the dead leader waits
    // out a request timeout (kafkajs: 30 s) and a rebalance before it reads again. Waited for
    // 30 s plus the lease, then, only when something is still missing, up to 60 s more; the
    // delay shows in the longest time without a delivery.
    if (!(await waitUntil(allHandled, 30_000 + options.ackTimeoutMs))) await waitUntil(allHandled, 60_000);
    const handled = handledIds();
    const lostIds = [...confirmed].filter((id) => !handled.has(id)).slice(0, 10);
    return {
      leader,
      ...tally(arrivals, confirmed, confirmations, { sent, failedSends, started, faultedAt, ended: producerEnded }),
      ...(lastSendError ? { lastSendError } : {}),
      ...(lostIds.length ? { lostIds } : {}),
      queue,
    };
  } finally {
    for (const worker of workers) if (worker.alive) worker.child.kill('SIGKILL');
    // A run that threw between the fault and the revival still leaves the cluster whole.
    if (!revived) await options.nodes.signal(leader, 'CONT').catch(() => undefined);
    if (!revived && options.fault === 'kill') await options.nodes.revive(leader).catch(() => undefined);
  }
}

/** A handled message as the harness heard of it. */
export interface Arrival {
  id: string;
  /** When its line arrived here. */
  at: number;
  /** Which process, and when its handler started there (absent: judged by arrival). */
  by?: number;
  startedAt?: number;
}

/** The run's figures from what was confirmed and what arrived, in order. */
export function tally(
  arrivals: readonly Arrival[],
  confirmed: ReadonlySet<string>,
  confirmations: readonly number[],
  run: { sent: number; failedSends: number; started: number; faultedAt: number; ended: number },
): Omit<RunFigures, 'leader' | 'lastSendError' | 'lostIds' | 'queue'> {
  const seen = new Set<string>();
  let duplicates = 0;
  for (const { id } of arrivals) {
    if (seen.has(id)) duplicates += 1;
    seen.add(id);
  }
  // A message handled after a later one of its key: the order broke (judged by handler starts).
  const { violations: orderViolations } = keyOrderFigures(
    arrivals.map(({ id, at, by, startedAt }) => ({ ...keyAndSeqOf(id), by: by ?? 0, startedAt: startedAt ?? at })),
    [],
  );
  const lost = [...confirmed].filter((id) => !seen.has(id)).length;
  const longestGap = (times: readonly number[], from: number, to: number): number => {
    const sorted = [...times].sort((a, b) => a - b);
    let longest = 0;
    let previous = from;
    for (const at of sorted) {
      if (at > to) break;
      longest = Math.max(longest, at - previous);
      previous = at;
    }
    return Math.max(longest, to - previous);
  };
  const deliveries = arrivals.map((arrival) => arrival.at);
  // Both windows run until the producer's last send: sends that kept failing, or deliveries
  // that never came while it sent, count as time without.
  const lastDelivery = Math.max(run.ended, ...deliveries.filter((at) => at <= run.ended));
  return {
    sent: run.sent,
    confirmed: confirmed.size,
    failedSends: run.failedSends,
    handled: seen.size,
    lost,
    duplicates,
    orderViolations,
    longestWithoutSendMs: longestGap(confirmations, run.started, run.ended),
    longestWithoutDeliveryMs: longestGap(deliveries, run.started, lastDelivery),
    throughputBackMs: throughputBack(deliveries, run.started, run.faultedAt),
  };
}

/**
 * From the fault until throughput is back: the end of the first whole second, starting after
 * the longest pause in deliveries since the fault, whose deliveries reach 80 % of the mean per
 * second before the fault; null when none does.
 */
function throughputBack(deliveries: readonly number[], started: number, faultedAt: number): number | null {
  if (faultedAt <= started) return null;
  const before = deliveries.filter((at) => at < faultedAt).length / ((faultedAt - started) / 1_000);
  const after = deliveries.filter((at) => at >= faultedAt).sort((a, b) => a - b);
  // Where the outage ended: the delivery that closed the longest gap after the fault.
  let from = 0;
  let longest = -1;
  let previous = faultedAt;
  after.forEach((at, index) => {
    if (at - previous > longest) {
      longest = at - previous;
      from = index;
    }
    previous = at;
  });
  for (let index = from; index < after.length; index += 1) {
    const windowStart = after[index] as number;
    let count = 0;
    for (let next = index; next < after.length && (after[next] as number) < windowStart + 1_000; next += 1) count += 1;
    if (count >= 0.8 * before) return windowStart + 1_000 - faultedAt;
  }
  return null;
}

/**
 * A hand on a cluster's nodes through a command, `scripts/brokers node CLUSTER` by default:
 * `COMMAND leader QUEUE` prints the leading node, `COMMAND signal NODE SIG` and
 * `COMMAND revive NODE` act on it. The script owns the nodes' pids; the harness only asks.
 */
export function clusterNodesFrom(command: string): ClusterNodes {
  const run = (args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      const child = spawn(`${command} ${args.map(quote).join(' ')}`, { shell: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${err.trim().split('\n').at(-1) ?? ''}`))));
    });
  return {
    leaderOf: (queue) => run(['leader', queue]),
    signal: async (node, signal) => {
      await run(['signal', node, signal]);
    },
    revive: async (node) => {
      await run(['revive', node]);
    },
  };
}

/** One shell word: queue and node names are [\w.:-], anything else is quoted. */
const quote = (word: string): string => (/^[\w.:@{}-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);
