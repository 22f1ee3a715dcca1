import { connect } from '@brokerkit/core';
import { badInput } from './bad-input.js';
import { brokerRestart } from './broker-restart.js';
import { networkCut, type ProxyRoute } from './network-cut.js';
import { consumerCrash } from './consumer-crash.js';
import { crashRecovery, recoveryLease } from './crash-recovery.js';
import { nodeFailover, type ClusterNodes } from './node-failover.js';
import { registerAllDrivers } from './drivers.js';
import { poison } from './poison.js';
import { notRun, type FaultsReport, type ScenarioId, type ScenarioResult } from './report.js';

export interface FaultsOptions {
  backend: string;
  url: string;
  /** Messages of the consumer-crash scenario (default 20 000; sqs 2 000: the moto server scans its queue per receive). */
  messages?: number;
  kills?: number;
  only?: ScenarioId[];
  /** A toxiproxy API (http://127.0.0.1:8474) for network-cut; without it, network-cut is not run. */
  toxiproxy?: string;
  /**
   * Where the proxy must listen and forward for brokers whose clients follow advertised
   * addresses (Kafka: `scripts/brokers` advertises a PROXIED listener on 127.0.0.1:9095).
   */
  proxyRoute?: ProxyRoute;
  /** Messages the crashed consumer holds in crash-recovery, one round each (default 100 and 1 000). */
  held?: readonly number[];
  /** How to restart the broker keeping its data (`scripts/brokers bounce NAME`); without it, broker-restart is not run. */
  restart?: () => Promise<void>;
  /** A hand on the cluster's nodes (`scripts/brokers node CLUSTER …`); without it, node-failover and node-pause are not run. */
  nodes?: ClusterNodes;
  /** Runs of node-failover and node-pause each (default 3). */
  runs?: number;
  /**
   * How long node-failover keeps the killed leader down and node-pause keeps it stopped
   * (default 5 000 and 10 000 ms). Longer than a run (15 s) tells an election among the
   * others from the leader's return: sends come back before it does, or not at all.
   */
  downMs?: number;
  onProgress?: (line: string) => void;
}

const ACK_TIMEOUT_MS = 2_000;
/** Keyed messages per run of node-failover and node-pause: 15 s at 400 msg/s. */
const FAILOVER_MESSAGES = 6_000;
/** The lease of crash-recovery's consumers: what an application would set, longer than its handlers. */
const RECOVERY_ACK_TIMEOUT_MS = 5_000;
/** The lease a backend really gives: Pub/Sub's ack deadline is at least 10 s. */
const effectiveLeaseMs = (backend: string): number => (backend === 'pubsub' ? 10_000 : ACK_TIMEOUT_MS);

/** Why a scenario that kills a consumer process does not apply to the embedded broker. */
const IN_PROCESS = 'the embedded broker lives inside one process: there is no other process to crash';

/** Backends one TCP proxy cannot sit in front of. */
const UNPROXIABLE: Record<string, string> = {
  memory: 'the embedded broker has no network',
};
/** Backends whose clients follow the addresses the broker advertises: they need a fixed route. */
const NEEDS_ROUTE: Record<string, string> = {
  kafka: 'Kafka clients dial the addresses the broker advertises, around a proxy on a free port: give a route to a listener that advertises the proxy (BROKERKIT_KAFKA_PROXY_ROUTE or brokerkit faults --proxy-route LISTEN=UPSTREAM)',
};
/** Servers that keep nothing across a restart: there is nothing to prove. */
const NO_PERSISTENCE: Record<string, string> = {
  memory: 'the embedded broker is the process itself',
  sqs: 'the moto server keeps queues in memory only: a restart empties it',
  pubsub: 'the pstest server keeps everything in memory: a restart empties it',
};

/** Run the fault scenarios against one backend; each reports measured figures, never a bare pass. */
export async function runFaults(options: FaultsOptions): Promise<FaultsReport> {
  registerAllDrivers();
  const messages = options.messages ?? (options.backend === 'sqs' ? 2_000 : 20_000);
  const wanted = (id: ScenarioId): boolean => !options.only || options.only.includes(id);
  const broker = await connect(options.url);
  const scenarios = {} as Record<ScenarioId, ScenarioResult>;
  const run = async (id: ScenarioId, body: () => Promise<ScenarioResult>): Promise<void> => {
    if (!wanted(id)) {
      scenarios[id] = notRun('not selected');
      return;
    }
    options.onProgress?.(`${options.backend} ${id} …`);
    const started = Date.now();
    try {
      scenarios[id] = await body();
    } catch (error) {
      scenarios[id] = { ...notRun(''), status: 'fail', reason: `threw ${(error as Error).message}` };
    }
    const result = scenarios[id];
    options.onProgress?.(`${options.backend} ${id}: ${result.status} in ${Math.round((Date.now() - started) / 100) / 10} s — sent ${result.sent}, handled ${result.handled}, lost ${result.lost}, duplicates ${result.duplicates}${result.reason ? ` (${result.reason})` : ''}`);
  };
  try {
    if (options.backend === 'memory') scenarios['consumer-crash'] = notRun(IN_PROCESS);
    else await run('consumer-crash', () => consumerCrash(broker, options.url, { messages, kills: options.kills ?? 5, consumers: 2, ackTimeoutMs: ACK_TIMEOUT_MS, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }));
    if (options.backend === 'memory') scenarios['key-crash'] = notRun(IN_PROCESS);
    else if (broker.capabilities.ordering !== 'per-key') {
      scenarios['key-crash'] = notRun(`the backend keeps key order within one instance only (ordering '${broker.capabilities.ordering}'): across processes it is not promised`);
    } else {
      // Three key-ordered consumer processes, three kills: fewer messages (a kill's keys wait for its leases on some backends).
      const keyMessages = Math.min(messages, 6_000);
      await run('key-crash', () => consumerCrash(broker, options.url, { messages: keyMessages, kills: 3, consumers: 3, ordering: 'key', ackTimeoutMs: ACK_TIMEOUT_MS, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }));
    }
    if (options.backend === 'memory') scenarios['crash-recovery'] = notRun(IN_PROCESS);
    else {
      const lease = recoveryLease(options.backend, RECOVERY_ACK_TIMEOUT_MS);
      await run('crash-recovery', () => crashRecovery(broker, options.url, { held: options.held ?? [100, 1_000], ackTimeoutMs: RECOVERY_ACK_TIMEOUT_MS, lease, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }));
    }
    const restart = options.restart;
    if (NO_PERSISTENCE[options.backend]) scenarios['broker-restart'] = notRun(NO_PERSISTENCE[options.backend] as string);
    else if (!restart) scenarios['broker-restart'] = notRun('no way to restart this broker was given (brokerkit faults --restart-command)');
    else await run('broker-restart', () => brokerRestart(broker, { messages: Math.min(messages, 600), restart }));
    const toxiproxy = options.toxiproxy;
    if (UNPROXIABLE[options.backend]) scenarios['network-cut'] = notRun(UNPROXIABLE[options.backend] as string);
    else if (!toxiproxy) scenarios['network-cut'] = notRun('no toxiproxy was given (BROKERKIT_TOXIPROXY_URL or brokerkit faults --toxiproxy)');
    else if (NEEDS_ROUTE[options.backend] && !options.proxyRoute) scenarios['network-cut'] = notRun(NEEDS_ROUTE[options.backend] as string);
    else await run('network-cut', () => networkCut(options.url, toxiproxy, Math.min(messages, 600), options.proxyRoute));
    await run('poison', () => poison(broker, { ackTimeoutMs: ACK_TIMEOUT_MS, slowMs: Math.round(1.6 * effectiveLeaseMs(options.backend)) }));
    await run('bad-input', () => badInput(broker, options.backend, options.url));
    const nodes = options.nodes;
    const failover = { nodes: nodes as ClusterNodes, messages: FAILOVER_MESSAGES, ratePerSec: 400, keys: 32, runs: options.runs ?? 3, ackTimeoutMs: ACK_TIMEOUT_MS, ...(options.onProgress ? { onProgress: options.onProgress } : {}) };
    for (const [id, fault, defaultDownMs] of [['node-failover', 'kill', 5_000], ['node-pause', 'pause', 10_000]] as const) {
      if (!nodes) scenarios[id] = notRun('not a cluster: no hand on its nodes was given (brokerkit faults --nodes-command "./scripts/brokers node redis-cluster")');
      else await run(id, () => nodeFailover(broker, options.url, { ...failover, fault, downMs: options.downMs ?? defaultDownMs }));
    }
  } finally {
    await broker.close();
  }
  return { backend: options.backend, url: options.url, generatedAt: new Date().toISOString(), messages, scenarios };
}
