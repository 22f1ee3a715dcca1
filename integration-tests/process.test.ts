import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { connect, type Broker } from '@brokerkit/core';
import { Toxiproxy } from '@brokerkit/faults';
import { pause, waitUntil } from '@brokerkit/conformance';
import { brokersUnderTest } from './fixtures/brokers-under-test.js';
import { startConsumerProcess } from './fixtures/consumer-process.js';
import { BACKENDS_UNDER_TEST } from './fixtures/register.js';

type Line = { started?: string; handled?: string; closed?: boolean; elapsedMs?: number };

/**
 * closeOnSignals and broker.health() on real brokers: SIGTERM during a handler lets it finish
 * and settle before the process exits 0 (nothing redelivered); health is ok while the broker
 * answers, down (within its timeout) when the path to it is cut.
 */
describe('process integration: SIGTERM closes gracefully, health for readiness probes', () => {
  const urls = brokersUnderTest();

  it('redis: SIGTERM mid-handler — the handler finishes, the message is acked, exit code 0, no redelivery', { timeout: 60_000 }, async () => {
    const url = urls.redis as string;
    const queue = `bk-sigterm-${randomBytes(4).toString('hex')}`;
    const broker = await connect(url);
    try {
      await broker.ensureQueue(queue);
      const child = await startConsumerProcess<Line>('graceful-consumer', [url, queue, '1500', '5000'], (line) => JSON.parse(line) as Line);
      const { id } = await broker.producer().send(queue, { body: { n: 1 } });
      assert.ok(await waitUntil(() => child.seen.some((l) => l.started === id), 20_000), 'the handler started');
      child.signal('SIGTERM');
      const code = await child.exited;
      assert.equal(code, 0, 'exit code after a clean close');
      assert.deepEqual(child.seen.filter((l) => l.handled !== undefined).map((l) => l.handled), [id], 'the handler finished before the process ended');
      const closed = child.seen.find((l) => l.closed !== undefined);
      assert.equal(closed?.closed, true);
      // Acked, not released: another consumer sees nothing, even after the 2 s lease would have run out.
      const again: string[] = [];
      await broker.consumer(queue, (message) => void again.push(message.id), { ackTimeoutMs: 2_000 });
      await pause(3_500);
      assert.deepEqual(again, [], 'nothing was redelivered');
    } finally {
      await broker.close();
    }
  });

  for (const backend of ['memory', ...BACKENDS_UNDER_TEST]) {
    it(`${backend}: health is ok with a measured round trip, down once closed`, { timeout: 30_000 }, async () => {
      const broker: Broker = await connect(backend === 'memory' ? 'memory://health' : (urls[backend] as string));
      const queue = `bk-health-${randomBytes(4).toString('hex')}`;
      await broker.consumer(queue, () => undefined);
      const report = await broker.health();
      assert.equal(report.status, 'ok', JSON.stringify(report));
      assert.equal(report.backend, backend);
      assert.ok(report.latencyMs >= 0 && report.latencyMs < 2_000);
      assert.deepEqual(report.subscribers.map((s) => [s.subscription, s.receiving]), [[queue, true]]);
      // The backlog, where the backend tells one (nothing sent: 0); else none and no error.
      const [subscriber] = report.subscribers;
      if (broker.capabilities.backlog === 'none') assert.deepEqual([subscriber?.backlog, subscriber?.backlogError], [undefined, undefined]);
      else assert.equal(subscriber?.backlog?.messages, 0, JSON.stringify(subscriber));
      await broker.close();
      assert.equal((await broker.health()).status, 'down');
    });
  }

  it('redis behind toxiproxy: health says down within its timeout when the path is cut, ok again after', { timeout: 60_000, skip: process.env.BROKERKIT_TOXIPROXY_URL ? false : 'BROKERKIT_TOXIPROXY_URL is not set (./scripts/test starts toxiproxy)' }, async () => {
    const toxiproxy = new Toxiproxy(process.env.BROKERKIT_TOXIPROXY_URL as string);
    const name = `bk-health-${randomBytes(4).toString('hex')}`;
    const upstream = new URL(urls.redis as string);
    const proxied = new URL(urls.redis as string);
    proxied.host = await toxiproxy.create(name, `${upstream.hostname}:${upstream.port || 6379}`);
    const broker = await connect(proxied.toString());
    try {
      assert.equal((await broker.health()).status, 'ok');
      await toxiproxy.setEnabled(name, false);
      const started = Date.now();
      const down = await broker.health({ timeoutMs: 1_000 });
      assert.equal(down.status, 'down', JSON.stringify(down));
      assert.ok(Date.now() - started < 3_000, `health answered in ${Date.now() - started} ms`);
      assert.ok(down.error, 'says why');
      await toxiproxy.setEnabled(name, true);
      assert.ok(await pollHealth(broker), 'ok again once the path is back');
    } finally {
      await broker.destroy();
      await toxiproxy.remove(name).catch(() => undefined);
    }
  });
});

/** Health until ok, for up to 20 s (the client reconnects with backoff). */
async function pollHealth(broker: Broker): Promise<boolean> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if ((await broker.health({ timeoutMs: 1_000 })).status === 'ok') return true;
    await pause(250);
  }
  return false;
}
