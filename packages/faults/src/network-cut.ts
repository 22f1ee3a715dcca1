import { randomBytes } from 'node:crypto';
import { connect, type Broker } from '@brokerkit/core';
import { sleep } from '@brokerkit/core/driver';
import type { ScenarioResult } from './report.js';
import { disruptedStream } from './disrupted-stream.js';

/** A toxiproxy server's HTTP API: one proxy per scenario run (and per test that cuts a path). */
export class Toxiproxy {
  constructor(private readonly api: string) {}

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.api}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    if (!response.ok) throw new Error(`toxiproxy ${method} ${path}: ${response.status} ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  }

  /** A proxy on `listen` (default: a free loopback port) in front of `upstream`; returns its host:port. */
  async create(name: string, upstream: string, listen = '127.0.0.1:0'): Promise<string> {
    const proxy = (await this.call('POST', '/proxies', { name, listen, upstream, enabled: true })) as { listen: string };
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

/**
 * A fixed proxy route, for brokers whose clients dial the addresses the broker advertises
 * (Kafka): the proxy listens where the broker advertises a listener and forwards to it.
 */
export interface ProxyRoute {
  listen: string;
  upstream: string;
}

/** Parse `LISTEN=UPSTREAM` (both host:port), as BROKERKIT_KAFKA_PROXY_ROUTE and --proxy-route give it. */
export function parseProxyRoute(text: string): ProxyRoute {
  const match = /^([^=\s]+:\d+)=([^=\s]+:\d+)$/.exec(text.trim());
  if (!match) throw new Error(`proxy route "${text}": expected LISTEN=UPSTREAM, e.g. 127.0.0.1:9095=127.0.0.1:9094`);
  return { listen: match[1] as string, upstream: match[2] as string };
}

const CUT_MS = 3_000;
const LATENCY_MS = 150;
const LATENCY_FOR_MS = 2_000;

/**
 * Producer and consumer reach the broker through a TCP proxy that is cut for 3 s and then
 * slowed by 150 ms for 2 s, while a stream of sends flows (see `disruptedStream`).
 */
export async function networkCut(url: string, toxiproxyApi: string, messages: number, route?: ProxyRoute): Promise<ScenarioResult> {
  const proxy = new Toxiproxy(toxiproxyApi);
  const name = `bk-cut-${randomBytes(4).toString('hex')}`;
  const listen = route ? await proxy.create(name, route.upstream, route.listen) : await proxy.create(name, upstreamOf(url));
  let broker: Broker | undefined;
  try {
    broker = await connect(throughProxy(url, listen));
    return await disruptedStream(broker, 'cut', messages, {
      details: { cutMs: CUT_MS, latencyMs: LATENCY_MS, latencyForMs: LATENCY_FOR_MS },
      run: async () => {
        await proxy.setEnabled(name, false);
        await sleep(CUT_MS);
        await proxy.setEnabled(name, true);
        await sleep(500);
        await proxy.addLatency(name, LATENCY_MS);
        await sleep(LATENCY_FOR_MS);
        await proxy.removeLatency(name);
      },
    });
  } finally {
    await broker?.close().catch(() => undefined);
    await proxy.remove(name).catch(() => undefined);
  }
}
