import { randomBytes } from 'node:crypto';
import { connect, type Broker } from '@brokerkit/core';
import type { ScenarioResult } from './report.js';
import { sleep, waitUntil } from './wait.js';

/** A toxiproxy server's HTTP API: one proxy per scenario run. */
class Toxiproxy {
  constructor(private readonly api: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.api}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  }

  /** A proxy on a free loopback port in front of `upstream`; returns its host:port. */
  async create(name: string, upstream: string): Promise<string> {
    const proxy = (await this.call('POST', '/proxies', { name, listen: '127.0.0.1:0', upstream, enabled: true })) as { listen: string };
    return proxy.listen;
  }

  setEnabled(name: string, enabled: boolean): Promise<unknown> {
    return this.call('POST', `/proxies/${name}`, { enabled });
  }

  addLatency(name: string, ms: number): Promise<unknown> {
    return this.call('POST', `/proxies/${name}/toxics`, { name: 'latency', type: 'latency', stream: 'downstream', attributes: { latency: ms, jitter: 0 } });
  }

  removeLatency(name: string): Promise<unknown> {
    return this.call('DELETE', `/proxies/${name}/toxics/latency`);
  }

  remove(name: string): Promise<unknown> {
    return this.call('DELETE', `/proxies/${name}`);
  }
}

/** The URL of the same broker, reached through `listen`. */
function throughProxy(url: string, listen: string): string {
  const parsed = new URL(url);
  const emulator = parsed.searchParams.get('emulator');
  if (emulator) parsed.searchParams.set('emulator', listen);
  else parsed.host = listen;
  return parsed.toString();
}

/** host:port the client dials, and the default ports where the URL names none. */
function upstreamOf(url: string): string {
  const parsed = new URL(url);
  const emulator = parsed.searchParams.get('emulator');
  if (emulator) return emulator;
  const port = parsed.port || { 'redis:': '6379', 'amqp:': '5672', 'sqs:': '4566' }[parsed.protocol] || '';
  return `${parsed.hostname}:${port}`;
}

const CUT_MS = 3_000;
const LATENCY_MS = 150;
const LATENCY_FOR_MS = 2_000;

/**
 * Producer and consumer reach the broker through a TCP proxy that is cut for 3 s and then
 * slowed by 150 ms for 2 s. A send that fails must fail (never hang: the slowest is reported),
 * the application retries it; afterwards every confirmed message must have been handled.
 */
export async function networkCut(url: string, toxiproxyApi: string, messages: number): Promise<ScenarioResult> {
  const proxy = new Toxiproxy(toxiproxyApi);
  const name = `bk-cut-${randomBytes(4).toString('hex')}`;
  const listen = await proxy.create(name, upstreamOf(url));
  let broker: Broker | undefined;
  try {
    broker = await connect(throughProxy(url, listen));
    const queue = `bk-faults-cut-${randomBytes(4).toString('hex')}`;
    await broker.ensureQueue(queue);
    const handled = new Map<string, number>();
    let restoredAt = 0;
    let handledAfterRestore = 0;
    const errors: string[] = [];
    const consumer = await broker.consumer(
      queue,
      (message) => {
        handled.set(message.id, (handled.get(message.id) ?? 0) + 1);
        if (restoredAt && !handledAfterRestore) handledAfterRestore = Date.now();
      },
      { concurrency: 4, onError: (error) => errors.push(error.message) },
    );
    const producer = broker.producer();
    const confirmed: string[] = [];
    let failedSends = 0;
    let slowestSendMs = 0;
    let disruption: Promise<void> | undefined;
    for (let n = 0; n < messages; n += 1) {
      if (n === Math.floor(messages / 3)) {
        disruption = (async () => {
          await proxy.setEnabled(name, false);
          await sleep(CUT_MS);
          await proxy.setEnabled(name, true);
          restoredAt = Date.now();
          await sleep(500);
          await proxy.addLatency(name, LATENCY_MS);
          await sleep(LATENCY_FOR_MS);
          await proxy.removeLatency(name);
        })();
      }
      const deadline = Date.now() + 120_000;
      for (;;) {
        const started = Date.now();
        try {
          confirmed.push((await producer.send(queue, { body: { n } })).id);
          slowestSendMs = Math.max(slowestSendMs, Date.now() - started);
          break;
        } catch (error) {
          slowestSendMs = Math.max(slowestSendMs, Date.now() - started);
          failedSends += 1;
          if (Date.now() > deadline) throw new Error(`send ${n} kept failing for 120 s: ${(error as Error).message}`);
          await sleep(250);
        }
      }
      await sleep(5);
    }
    await disruption;
    await waitUntil(() => confirmed.every((id) => handled.has(id)), 120_000);
    await consumer.close();
    const lost = confirmed.filter((id) => !handled.has(id)).length;
    const duplicates = [...handled.values()].reduce((sum, count) => sum + count - 1, 0);
    const failures = [lost > 0 && `${lost} confirmed messages never handled`, slowestSendMs > 60_000 && `a send took ${slowestSendMs} ms`].filter(Boolean);
    return {
      status: failures.length === 0 ? 'pass' : 'fail',
      ...(failures.length ? { reason: failures.join('; ') } : {}),
      sent: messages,
      confirmed: confirmed.length,
      handled: handled.size,
      lost,
      duplicates,
      recoveryMs: restoredAt && handledAfterRestore ? Math.max(0, handledAfterRestore - restoredAt) : null,
      details: { cutMs: CUT_MS, latencyMs: LATENCY_MS, failedSends, slowestSendMs, consumerErrorsReported: errors.length },
    };
  } finally {
    await broker?.close().catch(() => undefined);
    await proxy.remove(name).catch(() => undefined);
  }
}
